"""Full-text search over ticket number, title, description, request-form answers and
comments.

PostgreSQL: `search_document @@ websearch_to_tsquery('simple', …)` over stored text vectors
(generated columns of tickets and comments, GIN-indexed; migration 0016, PostgreSQL only),
so testing a row does not parse its text again. A page of a search in a list narrower
than every ticket (a person's teams, a view, a filter) walks the first tickets in the
list's order (a window of WINDOW of them, then perhaps one WIDER times larger) testing
each, and reads the words' matches from the GIN indexes where that leaves the page
short: it reads no more than its windows or its words' matches (`read_page_ids`).
The ticket's vector includes its form answers (strings and numbers), retired fields too.
The 'simple' configuration does no stemming: tickets mix languages, product names and
error codes, which stemming mangles. SQLite (the embedded default): case-insensitive
substring matching (the answers through their JSON text), fine for the few thousand
tickets an embedded install holds.

Internal comments only match for people who may read them: the visibility condition is
part of the comment subquery, so a requester cannot find a ticket by words that appear
only in an internal note.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import (
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Field,
    Func,
    GeneratedField,
    OuterRef,
    Q,
    TextField,
    Value,
)
from django.db.models.expressions import Col
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, Ticket, parse_number

CONFIG = "simple"


DOCUMENT_COLUMN = "search_document"
GIN_INDEXES = {"ticket": "ticket_document_gin", "comment": "comment_document_gin"}


class StoredDocument(Expression):
    """The `search_document` column of the queried table (a ticket or a comment).

    Not a model field, so no row ever loads it; it resolves to the base table's alias
    like a field would, so subqueries relabel it correctly.
    """

    output_field = SearchVectorField()

    def resolve_expression(self, query=None, *args, **kwargs):
        target = SearchVectorField()
        target.set_attributes_from_name(DOCUMENT_COLUMN)
        target.model = query.model
        return Col(query.get_initial_alias(), target, SearchVectorField())


# Searches matching more tickets than this take the "walk" plan (see apply_search).
PROBE_LIMIT = 5000


def _parts(user, text: str, *, indexed: bool = True):
    """(ticket text condition, visible comments matching) for `text`, per database;
    on PostgreSQL, not `indexed`: comments tested one by one (UnindexedDocument)."""
    comments = access.searchable_comments(user)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        document = StoredDocument() if indexed else UnindexedDocument()
        return Q(_vector=query), comments.alias(_vector=document).filter(_vector=query)
    return (
        Q(title__icontains=text) | Q(description__icontains=text) | Q(_answers__icontains=text),
        comments.filter(body__icontains=text),
    )


class UnindexedDocument(StoredDocument):
    """The same stored vector as an expression the GIN index cannot answer, for a search
    within a person's own few tickets or the window's: testing each of them is cheaper
    than reading the index's entries for a common word across the whole table, which the
    planner would otherwise combine with them (20 ms for "laptop" at 1M tickets, against
    under 2 ms). COALESCE hands the stored value on as it is (`|| ''` copied each one:
    the window's rare word took 14.3 ms instead of 11.9)."""

    def resolve_expression(self, query=None, *args, **kwargs):
        column = super().resolve_expression(query, *args, **kwargs)
        return Func(
            column,
            template="COALESCE(%(expressions)s, ''::tsvector)",
            output_field=column.output_field,
        )


def _with_text(queryset, *, indexed: bool = True):
    """`queryset` with what `_parts`' ticket condition refers to, per database."""
    if connection.vendor == "postgresql":
        return queryset.alias(_vector=StoredDocument() if indexed else UnindexedDocument())
    # The answers' JSON text: substring matching finds values (and, harmlessly, codes).
    return queryset.alias(_answers=Cast("form_values", TextField()))


def _tickets():
    return _with_text(access.system_read(Ticket))


def matching_ids(user, text: str):
    """The ids of tickets whose number, title, description or visible comments match, as
    one UNION: PostgreSQL answers each part from its GIN index."""
    text_match, comments = _parts(user, text)
    parts = [comments.order_by().values("ticket_id")]
    by_number = parse_number(text)
    if by_number is not None:
        parts.append(access.system_read(Ticket).filter(pk=by_number).order_by().values("pk"))
    # UNION ALL: duplicates do no harm in IN (…), and the probe can stop at its LIMIT.
    return _tickets().filter(text_match).order_by().values("pk").union(*parts, all=True)


def normalise(text: str) -> str:
    return " ".join(text.split())


def page_ids(queryset, user, text: str, *, order_by: list[str], after: Q | None, limit: int):
    """The ids of the first `limit` tickets of `queryset` matching `text` in `order_by`
    order (after the cursor condition `after`): what one page of a search needs.

    SQLite: the visible matches, sorted and cut. PostgreSQL: `page_ids_union`'s rows, or
    `page_ids_indexed`'s where those leave the page short (`complete`).
    """
    text = normalise(text)
    if connection.vendor != "postgresql":
        if after is not None:
            queryset = queryset.filter(after)
        ids = queryset.filter(pk__in=matching_ids(user, text)).order_by(*order_by)
        return list(ids.values_list("pk", flat=True)[:limit])
    number = parse_number(text)
    given: dict[str, Any] = {"order_by": order_by, "after": after, "limit": limit, "number": number}
    rows = read_page_ids(
        user,
        limit,
        # Any condition counts, even one holding every ticket: a window then costs a
        # little more, never a wrong page.
        narrowed=bool(queryset.query.where),
        names_a_ticket=names_a_ticket(text),
        edge=lambda size: list(window_edge(order_by, after, size)),
        union=lambda edge: list(page_ids_union(queryset, user, text, **given, edge=edge)),
        indexed=lambda: list(page_ids_indexed(queryset, user, text, **given)),
    )
    return list(dict.fromkeys(row[0] for row in rows))


# The tickets a search's first walk reads, in the list's order, before it reads more or
# the words' matches from the full-text indexes (`read_page_ids`).
WINDOW = 2000
# How much larger the second walk's window is (`read_page_ids`).
WIDER = 16


def read_page_ids(
    user,
    limit: int,
    *,
    narrowed: bool,
    names_a_ticket: bool,
    edge: Callable[[int], list[tuple]],
    union: Callable[[tuple | None], list[tuple]],  # None: no window
    indexed: Callable[[], list[tuple]],
) -> list[tuple]:
    """A search page's id rows on PostgreSQL, from the statements the caller runs (the
    ticket list compiles them: portal/tickets/list_page.py). Three ways:
    - over every ticket, or a requester's own (`windowed`): `page_ids_union`'s rows;
    - a ticket number ("TKT-000123"): `page_ids_indexed`'s, its words are as rare as
      words get (a window would test its every ticket for them first);
    - otherwise a walk within the first WINDOW tickets (`window_edge`, then
      `page_ids_union` up to that edge); if that leaves the page short but found enough
      that a window WIDER times larger would hold two pages at the same density, within
      WINDOW × WIDER; if still short, or too few were found (rare words: their matches
      are few), `page_ids_indexed`'s.

    The second window is for a person whose tickets are a small share of all (an agent
    of a small team: WINDOW holds some 20 of theirs), and for words less dense in their
    list than a page in WINDOW."""
    if not windowed(user, narrowed):
        return union(None)
    if names_a_ticket:
        return indexed()
    for size in (WINDOW, WINDOW * WIDER):
        # No edge: fewer than `size` tickets follow, all walked (the empty window edge).
        found = next(iter(edge(size)), ())
        rows = union(found)
        if complete(rows, limit, found):
            return rows
        if len({row[0] for row in rows}) * WIDER < 2 * limit:
            break  # as dense in a window WIDER times larger, not surely a page
    return indexed()


def names_a_ticket(text: str) -> bool:
    """Whether `text` is a ticket's number in its own form (`TKT-000123`, `tkt-123`): a
    bare number ("500", "2026") is as likely an error code or a year in the text."""
    return parse_number(text) is not None and text.strip().upper().startswith("TKT")


# Where a sort keeps to some tickets only (filters.filtered_tickets: "SLA due soonest"
# lists open ones), the window is counted among those, over the index that sort walks.
WINDOW_AMONG = {"sla_due_sort_at": Q(status__in=OPEN_STATUSES)}


def window_edge(order_by: list[str], after: Q | None, size: int):
    """A window's edge, unevaluated: one row, the sort keys of the `size`-th ticket after
    `after` in `order_by` order, or none when fewer tickets follow. Counted over every
    ticket (for "SLA due soonest", every open one: `WINDOW_AMONG`), a superset of any
    person's list, so it is read from the sort's own index alone; a bound inside the
    person's own statement, never shown. It reaches that statement as values, so that
    the planner knows how few tickets the window holds: as a subquery, it planned for a
    third of the table and read every comment of a misjudged pair of words (1.6 s at
    1M)."""
    keys = _keys(order_by)
    among = access.system_read(Ticket).filter(WINDOW_AMONG.get(keys[0], Q()))
    if after is not None:
        among = among.filter(after)
    return among.order_by(*order_by).values_list(*keys)[size - 1 : size]


def _keys(order_by: list[str]) -> list[str]:
    return [name.lstrip("-") for name in order_by]


def _column(name: str) -> Field:
    """The ticket column `name`'s field (a generated column's: its output field)."""
    field = Ticket._meta.get_field(name)
    column = field.output_field if isinstance(field, GeneratedField) else field
    assert isinstance(column, Field)
    return column


def up_to_edge(order_by: list[str], edge: tuple) -> Q:
    """The window: the tickets up to the `edge` ticket in `order_by` order, the keys
    compared as one row, `(k1, k2) >= (e1, e2)` for a descending sort, which PostgreSQL
    reads as a range of the sort's index. On the first key alone, a window whose edge
    fell among equal keys (50,000 "urgent" tickets) held all of them. Sort keys are never
    NULL (as `keyset.after_condition` relies on too), so no ticket falls outside both
    sides. Each value is cast to its column's type, so the list's compiled statement
    takes it as a parameter whatever its stand-in (a small integer's would be out of
    range: portal/lib/compiled.py)."""
    descending = {name.startswith("-") for name in order_by}
    assert len(descending) == 1, "a row comparison needs every key in one direction"
    names = _keys(order_by)
    columns = [_column(name) for name in names]
    values = [
        Cast(Value(value, output_field=column), output_field=column)
        for column, value in zip(columns, edge, strict=True)
    ]
    keys = Func(*(F(name) for name in names), function="ROW", output_field=Field())
    bound = Func(*values, function="ROW", output_field=Field())
    within = GreaterThanOrEqual if descending.pop() else LessThanOrEqual
    # The first key's bound too, implied by the row's: PostgreSQL estimates a row
    # comparison by its first column alone (all 52,000 "urgent" tickets for a window of
    # 2,000); with both it multiplies the two, a few rows for "recently updated", near
    # the window's size for "Highest priority": small either way, so the window is walked.
    return Q(within(F(names[0]), values[0])) & Q(within(keys, bound))


def personal(user) -> bool:
    """Whether `user` searches their own tickets and the ones they watch only (a
    requester: a few hundred), which are walked whole."""
    return not access.reach_of(user).works_tickets


def windowed(user, narrowed: bool) -> bool:
    """Whether a search walks within the window: for people who work tickets, in a list
    narrower than every ticket (a person's teams, a view, a filter). Over every ticket,
    a word is as dense in the list as the planner's statistics say, so one statement
    planned its way walks a page for a common word and reads the GIN indexes for a rare
    one (about 1 ms of SQL at 1M, where the window would test 2,000 tickets first:
    about 8 ms of SQL)."""
    return not personal(user) and narrowed


def complete(rows: list[tuple], limit: int, edge: tuple) -> bool:
    """Whether `page_ids_union`'s rows hold the page: a window holding every ticket that
    follows (an empty `edge`), or `limit` tickets found within it, where every match
    outside it comes after them. Fewer, and the rest may lie beyond it."""
    return not edge or len({row[0] for row in rows}) >= limit


def page_ids_union(
    queryset,
    user,
    text: str,
    *,
    order_by: list[str],
    after: Q | None,
    limit: int,
    number: int | None,
    edge: tuple | None = None,
    unwalkable: bool = False,
):
    """`page_ids` on PostgreSQL, unevaluated: rows whose first value is an id, among the
    tickets up to the `edge` ticket's keys (`window_edge`; empty: every ticket after the
    cursor, fewer than a window, walked the same way; None: no window at all);
    `complete` says whether they hold the page, and `page_ids_indexed` reads it where
    they do not. `text` is normalised and `number` is the ticket it names
    (`parse_number`) or None, given apart so that the ticket list can compile the
    statement once per shape with stand-ins for these (portal/tickets/list_page.py).

    Within the window each ticket, and each of its comments by the comments' index, is
    tested one by one, walking the list's index: reading a common word's GIN entries
    ("laptop", 79,000 of them at 1M tickets: 13 ms) costs more than testing the window's
    tickets, and a pair of words the planner thought rare sent the comment branch through
    101,000 matching comments (1 s). The window bounds the walk: a word common across the
    organisation but rare among one person's tickets ("printer" for an agent of teams
    that handle no printers) looked to the planner like one a walk meets quickly, and at
    1M tickets the walk read all of them (4.1 s a page).

    With no window (`edge` None: not `windowed`), tickets and comments are read the
    planner's way, but for a requester's own tickets and the ones they watch, walked
    whole (`personal`). `unwalkable`: `page_ids_indexed`'s order.
    """
    if after is not None:
        queryset = queryset.filter(after)
    walked = edge is not None  # a window, all the tickets after the cursor if empty
    text_match, comments = _parts(user, text, indexed=not walked)
    if edge:
        queryset = queryset.filter(up_to_edge(order_by, edge))
    sort_by = order_by
    if unwalkable:
        queryset = queryset.alias(**{f"_by_{key}": _unwalkable(key) for key in _keys(order_by)})
        sort_by = [("-" if name[0] == "-" else "") + f"_by_{name.lstrip('-')}" for name in order_by]
    by_text = _with_text(queryset, indexed=not walked and not personal(user))
    branches = [
        by_text.filter(text_match),
        queryset.filter(Exists(comments.filter(ticket=OuterRef("pk")))),
    ]
    if number is not None:
        branches.append(queryset.filter(pk=number))
    # Each row is the id and the sort's keys (the callers read the id).
    columns = ["pk", *(key for key in _keys(order_by) if key not in {"pk", "id"})]
    parts = [b.order_by(*sort_by).values_list(*columns)[:limit] for b in branches]
    # One statement, a UNION of one branch per way to match, each sorted and cut to
    # `limit` on its own: one OR over them made PostgreSQL collect every matching
    # comment first (≈0.5 s for a common word at 1M tickets). The page's tickets are
    # among the union, since each branch holds its own top `limit`; the caller orders
    # and cuts again. Unordered: a union takes the model's default order (updated_at),
    # which only the "recently updated" sorts select; any other sort made it fail.
    return parts[0].union(*parts[1:]).order_by()


def page_ids_indexed(queryset, user, text: str, **page):
    """`page_ids_union`'s rows without the window, for a page it left short: each branch
    sorted by its keys plus nothing (`_unwalkable`), an order no index gives, so no plan
    can walk the list hoping to meet matches. Each reads its words' matches from the GIN
    indexes (or, for a word in most tickets, the table once) and sorts them. At 1M
    tickets, an agent's "printer" (31 of their tickets among the 26,150 whose text or
    comments say it): 0.33 s instead of the 4.1 s walk."""
    return page_ids_union(queryset, user, text, **page, unwalkable=True)


def _unwalkable(name: str) -> ExpressionWrapper:
    """The ticket column `name` plus zero (a time plus no time): its order, which no
    index gives. Not COALESCE(key, key), which a planner may reduce to the key of a NOT
    NULL column (PostgreSQL's development branch does)."""
    column = _column(name)
    nothing = dt.timedelta(0) if column.get_internal_type() == "DateTimeField" else 0
    return ExpressionWrapper(F(name) + Value(nothing), output_field=column)


def apply_search(queryset, user, text: str):
    """`queryset` (already scoped by `visible_tickets`) narrowed to tickets matching `text`.

    Two plans, chosen by one cheap probe (how many tickets match, counting up to
    PROBE_LIMIT, straight from the GIN indexes):
    - few matches (an error code, a name, a number): `id IN (UNION of matches)`, then sort
      those few. Testing tickets one by one in list order would read the whole list.
    - many matches (a common word): walk the list in its index order testing each ticket
      (its text, or EXISTS a visible matching comment) and stop after one page, since
      matches are dense. Building the full id set first would cost as much as the matches.
    """
    text = normalise(text)
    ids = matching_ids(user, text)
    if ids.order_by()[:PROBE_LIMIT].count() < PROBE_LIMIT:
        return queryset.filter(pk__in=ids)
    text_match, comments = _parts(user, text)
    queryset = _with_text(queryset)
    by_number = parse_number(text)
    return queryset.filter(
        text_match
        | Exists(comments.filter(ticket=OuterRef("pk")))
        | (Q(pk=by_number) if by_number is not None else Q(pk__in=[]))
    )
