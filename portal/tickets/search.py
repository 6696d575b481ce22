"""Full-text search over ticket number, title, description, request-form answers and
comments.

PostgreSQL: `search_document @@ websearch_to_tsquery('simple', …)` over stored text vectors
(generated columns of tickets and comments, GIN-indexed; migration 0016, PostgreSQL only),
so testing a row does not parse its text again. A page of a search in a list narrower
than every ticket (a person's teams, a view, a filter) walks the newest tickets in the
list's order (a window of WINDOW of them) testing each, and reads the words' matches
from the GIN indexes where that leaves the page short: it reads no more than the window
or its words' matches (`read_page_ids`). The ticket's vector
includes its form answers (strings and numbers), retired fields too. The 'simple'
configuration does no stemming: tickets mix languages, product names and error codes,
which stemming mangles. SQLite (the embedded default): case-insensitive substring
matching (the answers through their JSON text), fine for the few thousand tickets an
embedded install holds.

Internal comments only match for people who may read them: the visibility condition is
part of the comment subquery, so a requester cannot find a ticket by words that appear
only in an internal note.
"""

from collections.abc import Callable

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import (
    Exists,
    Expression,
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
from django.db.models.functions import Cast, Coalesce
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
    rows = read_page_ids(
        user,
        limit,
        narrowed=bool(queryset.query.where),
        names_a_ticket=number is not None,
        edge=lambda: list(window_edge(order_by, after)),
        union=lambda edge: list(
            page_ids_union(
                queryset,
                user,
                text,
                order_by=order_by,
                after=after,
                limit=limit,
                number=number,
                edge=edge,
            )
        ),
        indexed=lambda: list(
            page_ids_indexed(
                queryset, user, text, order_by=order_by, after=after, limit=limit, number=number
            )
        ),
    )
    return list(dict.fromkeys(row[0] for row in rows))


def read_page_ids(
    user,
    limit: int,
    *,
    narrowed: bool,
    names_a_ticket: bool,
    edge: Callable[[], list[tuple]],
    union: Callable[[tuple | None], list[tuple]],
    indexed: Callable[[], list[tuple]],
) -> list[tuple]:
    """A search page's id rows on PostgreSQL, from the statements the caller runs (the
    ticket list compiles them: portal/tickets/list_page.py): `window_edge`'s, then
    `page_ids_union`'s within the window, then `page_ids_indexed`'s if those leave the
    page short; without a window (`windowed`: `narrowed` says whether the list holds
    fewer than every ticket), `page_ids_union`'s alone. A ticket number is read from the
    indexes at once: its words are as rare as words get (the window would test its every
    ticket for them first)."""
    if not windowed(user, narrowed):
        return union(None)
    if names_a_ticket:
        return indexed()
    found = next(iter(edge()), None)
    rows = union(found)
    if not complete(rows, limit, found):
        rows = indexed()
    return rows


# The most tickets a search's walk reads, in the list's order, before the words' matches
# are read from the full-text indexes instead (`page_ids_union`, `page_ids_indexed`).
WINDOW = 2000


# Where a sort keeps to some tickets only (filters.filtered_tickets: "SLA due soonest"
# lists open ones), the window is counted among those, over the index that sort walks.
WINDOW_AMONG = {"sla_due_sort_at": Q(status__in=OPEN_STATUSES)}


def window_edge(order_by: list[str], after: Q | None):
    """The window's edge, unevaluated: one row, the sort keys of the WINDOW-th ticket
    after `after` in `order_by` order, counted over every ticket (a superset of anyone's,
    so it is read from the sort's own index alone), or none when fewer tickets follow.
    It reaches the search's statement as values, so that the planner knows how few
    tickets the window holds: as a subquery, it planned for a third of the table and
    read every comment of a misjudged pair of words (1.6 s at 1M)."""
    keys = [name.lstrip("-") for name in order_by]
    among = access.system_read(Ticket).filter(WINDOW_AMONG.get(keys[0], Q()))
    if after is not None:
        among = among.filter(after)
    return among.order_by(*order_by).values_list(*keys)[WINDOW - 1 : WINDOW]


def up_to_edge(order_by: list[str], edge: tuple) -> Q:
    """The window: the tickets up to the `edge` ticket in `order_by` order, its keys
    compared as one row, `(k1, k2) >= (e1, e2)` for a descending sort, which PostgreSQL
    reads as a range of the sort's index. On the first key alone, a window whose edge
    fell among equal keys ("urgent", of 50,000 tickets) held all of them. Each value is
    cast to its column's type, so the list's compiled statement takes it as a parameter
    whatever its stand-in (a small integer's would be out of range:
    portal/lib/compiled.py)."""
    names = [name.lstrip("-") for name in order_by]
    values = []
    for name, value in zip(names, edge, strict=True):
        field = Ticket._meta.get_field(name)
        # A generated column's type is its output field's.
        column = field.output_field if isinstance(field, GeneratedField) else field
        assert isinstance(column, Field)
        values.append(Cast(Value(value), output_field=column))
    keys = Func(*(F(name) for name in names), function="ROW", output_field=Field())
    bound = Func(*values, function="ROW", output_field=Field())
    within = GreaterThanOrEqual if order_by[0].startswith("-") else LessThanOrEqual
    # The first key's bound too, implied by the row's: PostgreSQL estimates a row
    # comparison by its first column alone (all 52,000 "urgent" tickets for a window of
    # 2,000) and then combined the person's whole team index with it (46 ms); with both,
    # it multiplies the two and walks the window.
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
    one (0.3 ms at 1M, where the window would test 2,000 tickets first: 9 ms)."""
    return not personal(user) and narrowed


def complete(rows: list[tuple], limit: int, edge: tuple | None) -> bool:
    """Whether `page_ids_union`'s rows hold the page: a window holding every ticket (no
    `edge`), or `limit` tickets found within it, where every match outside it comes after
    them. Fewer, and the rest may lie beyond it."""
    return edge is None or len({row[0] for row in rows}) >= limit


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
):
    """`page_ids` on PostgreSQL, unevaluated: rows whose first value is an id, among the
    tickets up to the `edge` ticket's keys (`window_edge`; None: all of them);
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
    1M tickets the walk read all of them (4.5 s).

    Without a window (`windowed`; fewer tickets than the window), tickets and comments
    are read the planner's way, but for a requester's own tickets and the ones they
    watch, walked whole (`personal`).
    """
    if after is not None:
        queryset = queryset.filter(after)
    text_match, comments = _parts(user, text, indexed=edge is None)
    if edge is not None:
        queryset = queryset.filter(up_to_edge(order_by, edge))
    by_text = _with_text(queryset, indexed=edge is None and not personal(user))
    by_text = by_text.filter(text_match)
    return _branches(by_text, queryset, comments, number, order_by, order_by, limit)


def page_ids_indexed(
    queryset,
    user,
    text: str,
    *,
    order_by: list[str],
    after: Q | None,
    limit: int,
    number: int | None,
):
    """`page_ids_union`'s rows without the window, for a page it left short: each branch
    sorted by its keys wrapped in COALESCE(key, key), an order no index gives, so no
    plan can walk the list hoping to meet matches. Each reads its words' matches from
    the GIN indexes (or, for a word in most tickets, the table once) and sorts them. At
    1M tickets, an agent's "printer" (22 of their tickets among the 18,990 that say it):
    0.33 s instead of the 4.5 s walk."""
    if after is not None:
        queryset = queryset.filter(after)
    text_match, comments = _parts(user, text)
    keys = [name.lstrip("-") for name in order_by]
    queryset = queryset.alias(**{f"_by_{key}": Coalesce(F(key), F(key)) for key in keys})
    unwalkable = [("-" if name[0] == "-" else "") + f"_by_{name.lstrip('-')}" for name in order_by]
    by_text = _with_text(queryset).filter(text_match)
    return _branches(by_text, queryset, comments, number, order_by, unwalkable, limit)


def _branches(by_text, queryset, comments, number, order_by, sort_by, limit):
    """One statement, a UNION of one branch per way to match (`by_text`, a visible
    comment, the ticket `number`), each sorted by `sort_by` and cut to `limit` on its
    own. One OR over all three made PostgreSQL collect every matching comment first
    (≈0.5 s for a common word at 1M tickets). The page's tickets are among the union,
    since each branch holds its own top `limit`; the caller orders and cuts again."""
    branches = [by_text, queryset.filter(Exists(comments.filter(ticket=OuterRef("pk"))))]
    if number is not None:
        branches.append(queryset.filter(pk=number))
    # A compound statement's branches may only sort by columns they select.
    keys = [name.lstrip("-") for name in order_by]
    columns = ["pk", *(key for key in keys if key not in {"pk", "id"})]
    parts = [b.order_by(*sort_by).values_list(*columns)[:limit] for b in branches]
    # Unordered: a union takes the model's default order (updated_at), which only the
    # "recently updated" sorts select; any other sort made the statement fail.
    return parts[0].union(*parts[1:]).order_by()


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
