"""Full-text search over ticket number, title, description and comments.

PostgreSQL: `to_tsvector('simple', …) @@ websearch_to_tsquery('simple', …)` over expressions
that GIN indexes cover exactly (migration 0002, PostgreSQL only). The 'simple' configuration
does no stemming: tickets mix languages, product names and error codes, which stemming
mangles. SQLite (the embedded default): case-insensitive substring matching, fine for the
few thousand tickets an embedded install holds.

Internal comments only match for people who may read them: the visibility condition is
part of the comment subquery, so a requester cannot find a ticket by words that appear
only in an internal note.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from portal.tickets.access import comment_visibility
from portal.tickets.models import Comment, Ticket, parse_number

CONFIG = "simple"


def ticket_vector() -> SearchVector:
    """The ticket text expression; the GIN index in migration 0002 is built from this."""
    return SearchVector("title", "description", config=CONFIG)


def comment_vector() -> SearchVector:
    return SearchVector("body", config=CONFIG)


# Searches matching more tickets than this take the "walk" plan (see apply_search).
PROBE_LIMIT = 5000


def _parts(user, text: str):
    """(ticket text condition, visible comments matching) for `text`, per database."""
    comments = Comment.objects.all()
    visibility = comment_visibility(user)
    if visibility is not None:
        comments = comments.filter(visibility)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        return Q(_vector=query), comments.alias(_vector=comment_vector()).filter(_vector=query)
    return (
        Q(title__icontains=text) | Q(description__icontains=text),
        comments.filter(body__icontains=text),
    )


def _tickets():
    if connection.vendor == "postgresql":
        return Ticket.objects.alias(_vector=ticket_vector())
    return Ticket.objects.all()


def matching_ids(user, text: str):
    """The ids of tickets whose number, title, description or visible comments match, as
    one UNION: PostgreSQL answers each part from its GIN index."""
    text_match, comments = _parts(user, text)
    parts = [comments.order_by().values("ticket_id")]
    by_number = parse_number(text)
    if by_number is not None:
        parts.append(Ticket.objects.filter(pk=by_number).order_by().values("pk"))
    # UNION ALL: duplicates do no harm in IN (…), and the probe can stop at its LIMIT.
    return _tickets().filter(text_match).order_by().values("pk").union(*parts, all=True)


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
    text = " ".join(text.split())
    ids = matching_ids(user, text)
    if ids.order_by()[:PROBE_LIMIT].count() < PROBE_LIMIT:
        return queryset.filter(pk__in=ids)
    text_match, comments = _parts(user, text)
    if connection.vendor == "postgresql":
        queryset = queryset.alias(_vector=ticket_vector())
    by_number = parse_number(text)
    return queryset.filter(
        text_match
        | Exists(comments.filter(ticket=OuterRef("pk")))
        | (Q(pk=by_number) if by_number is not None else Q(pk__in=[]))
    )
