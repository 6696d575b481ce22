"""Full-text search over ticket number, title, description, request-form answers and
comments.

PostgreSQL: `search_document @@ websearch_to_tsquery('simple', …)` over stored text vectors
(generated columns of tickets and comments, GIN-indexed; migration 0016, PostgreSQL only).
Stored, the planner has per-word statistics, so a rare word reads the GIN index first and
a common one walks the list's index, testing a stored vector per row instead of parsing
the text again. The ticket's vector includes its form answers (strings and numbers),
retired fields too. The 'simple' configuration does no stemming: tickets mix languages,
product names and error codes, which stemming mangles. SQLite (the embedded default):
case-insensitive substring matching (the answers through their JSON text), fine for the
few thousand tickets an embedded install holds.

Internal comments only match for people who may read them: the visibility condition is
part of the comment subquery, so a requester cannot find a ticket by words that appear
only in an internal note.
"""

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Exists, Expression, Func, OuterRef, Q, TextField
from django.db.models.expressions import Col
from django.db.models.functions import Cast

from portal.tickets import access
from portal.tickets.models import Ticket, parse_number

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


def _parts(user, text: str):
    """(ticket text condition, visible comments matching) for `text`, per database."""
    comments = access.searchable_comments(user)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        return Q(_vector=query), comments.alias(_vector=StoredDocument()).filter(_vector=query)
    return (
        Q(title__icontains=text) | Q(description__icontains=text) | Q(_answers__icontains=text),
        comments.filter(body__icontains=text),
    )


class UnindexedDocument(StoredDocument):
    """The same stored vector as an expression the GIN index cannot answer, for a search
    within a person's own few tickets: testing each of them is cheaper than reading the
    index's entries for a common word across the whole table, which the planner would
    otherwise combine with them (20 ms for "laptop" at 1M tickets, against under 2 ms)."""

    def resolve_expression(self, query=None, *args, **kwargs):
        column = super().resolve_expression(query, *args, **kwargs)
        return Func(
            column, template="(%(expressions)s || ''::tsvector)", output_field=column.output_field
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

    SQLite: the visible matches, sorted and cut. PostgreSQL: `page_ids_union`'s rows.
    """
    text = normalise(text)
    if connection.vendor != "postgresql":
        if after is not None:
            queryset = queryset.filter(after)
        ids = queryset.filter(pk__in=matching_ids(user, text)).order_by(*order_by)
        return list(ids.values_list("pk", flat=True)[:limit])
    union = page_ids_union(
        queryset, user, text, order_by=order_by, after=after, limit=limit, number=parse_number(text)
    )
    return [row[0] for row in union]


def page_ids_union(
    queryset,
    user,
    text: str,
    *,
    order_by: list[str],
    after: Q | None,
    limit: int,
    number: int | None,
):
    """`page_ids` on PostgreSQL, unevaluated: rows whose first value is an id. `text` is
    normalised and `number` is the ticket it names (`parse_number`) or None, given apart
    so that the ticket list can compile the statement once per shape with stand-ins for
    both (portal/tickets/list_page.py).

    PostgreSQL: one statement, a UNION of one branch per way to match (ticket text,
    a visible comment, the ticket number), each sorted and cut to `limit` on its own.
    The planner picks per branch: for a common word it walks the list's index and stops
    after a page (the comment branch probing each ticket's comments by index); for a rare
    word it reads the GIN index and sorts the few matches. One OR over all three made
    PostgreSQL collect every matching comment first (≈0.5 s for a common word at 1M
    tickets). The page's tickets are among the union, since each branch holds its own top
    `limit`; the caller orders and cuts again.
    """
    if after is not None:
        queryset = queryset.filter(after)
    text_match, comments = _parts(user, text)
    # A requester's scope is their own tickets and the ones they watch: a few hundred.
    personal = not access.reach_of(user).works_tickets
    branches = [
        _with_text(queryset, indexed=not personal).filter(text_match),
        queryset.filter(Exists(comments.filter(ticket=OuterRef("pk")))),
    ]
    if number is not None:
        branches.append(queryset.filter(pk=number))
    # A compound statement's branches may only sort by columns they select.
    keys = [name.lstrip("-") for name in order_by]
    columns = ["pk", *(key for key in keys if key not in {"pk", "id"})]
    parts = [b.order_by(*order_by).values_list(*columns)[:limit] for b in branches]
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
