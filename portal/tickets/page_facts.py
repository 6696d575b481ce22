"""Whether the ticket page has anything to read for its parts, asked in the ticket's own read.

Most tickets have no files, no related or linked tickets, no ratings and no emails; each
part of the page read its rows all the same, one statement each. Instead each part names a
fact, whether rows of some table point at the ticket, which the page's read of the ticket
(`access.get_ticket_for_page`) selects as `page_has_<name>`, and reads its rows only when
the fact says there are some. A fact only tells that there *may* be rows to show: what a
viewer may see of them is still decided by the part's own read through the access layer,
and an outsider's request gets the same 404 whatever the facts say.

Apps above tickets (links, csat, mailin) register their facts in their `AppConfig.ready`
without tickets importing them (`register`); their template tags ask
`known_empty(ticket, name)`. A ticket read elsewhere carries no facts, and `known_empty`
then answers False: the part reads as before.

Each fact is a fixed `EXISTS (…)` written from the models' tables and columns, not an ORM
`Exists`: six of those took longer to build and compile than the ticket's read itself, on
every page. `tests/test_page_facts.py` holds each equal to the ORM's answer. The SQL
names the ticket table itself, so it fits only a query whose base table is the tickets'
unaliased (the page's read); a fact is never shown to the viewer, only acted on.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Field, Model
from django.db.models.expressions import RawSQL

from portal.tickets.models import Attachment, Ticket

PREFIX = "page_has_"


@dataclass(frozen=True)
class Fact:
    """Rows of `model` whose `columns` (any of them) hold the ticket's id, less those whose
    fields equal a value in `unless`."""

    model: type[Model]
    columns: tuple[str, ...]
    unless: dict[str, Any] = field(default_factory=dict)

    def expression(self, **equal: Any) -> RawSQL:
        """`EXISTS (…)` on the ticket row; `equal`: fields of the rows and their values."""
        quote = connection.ops.quote_name
        ticket_id = f"{quote(Ticket._meta.db_table)}.{quote(_column(Ticket, 'id'))}"
        meta = self.model._meta
        row = quote("page_fact")

        def column(name: str) -> str:
            return f"{row}.{quote(_column(self.model, name))}"

        anyof = " OR ".join(f"{column(name)} = {ticket_id}" for name in self.columns)
        conditions = [f"({anyof})"]
        params: list[Any] = []
        for name, value in self.unless.items():
            conditions.append(f"{column(name)} <> %s")
            params.append(value)
        for name, value in equal.items():
            conditions.append(f"{column(name)} = %s")
            params.append(value)
        where = " AND ".join(conditions)
        # Names from the models, quoted; values only as parameters.
        sql = f"EXISTS (SELECT 1 FROM {quote(meta.db_table)} {row} WHERE {where})"  # noqa: S608
        return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611


def _column(model: type[Model], name: str) -> str:
    """The column of a concrete field (a foreign key's `…_id`)."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field) or found.column is None:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return found.column


_facts: dict[str, Fact] = {}


def register(name: str, fact: Fact) -> None:
    """The page's part `name` may have something to show when `fact` holds."""
    _facts[name] = fact


def annotations() -> dict[str, RawSQL]:
    """The facts as the ticket read's annotations (`page_has_<name>`)."""
    return {PREFIX + name: fact.expression() for name, fact in _facts.items()}


def names() -> list[str]:
    """The annotations' names, in their order."""
    return [PREFIX + name for name in _facts]


def known_empty(ticket: Ticket, name: str) -> bool:
    """True when the page's read of `ticket` said the part `name` has nothing to show."""
    return ticket.__dict__.get(PREFIX + name) is False


# Whether someone watches the ticket (access.get_ticket_for_page, with their id).
WATCHED = Fact(Ticket.watchers.through, ("ticket",))

register("files", Fact(Attachment, ("ticket",)))
# Tickets merged into it or its children (where it went and its parent are its own columns).
register("family", Fact(Ticket, ("merged_into", "parent")))
