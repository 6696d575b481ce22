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
from django.db.models import Q

from portal.tickets.access import comment_visibility
from portal.tickets.models import Comment, Ticket, parse_number

CONFIG = "simple"


def ticket_vector() -> SearchVector:
    """The ticket text expression; the GIN index in migration 0002 is built from this."""
    return SearchVector("title", "description", config=CONFIG)


def comment_vector() -> SearchVector:
    return SearchVector("body", config=CONFIG)


def matching_ids(user, text: str):
    """A query of the ids of tickets whose number, title, description or visible comments
    match `text`: one UNION, so PostgreSQL answers each part from its GIN index and then
    joins the (usually small) set of ids, instead of testing every ticket in list order."""
    text = " ".join(text.split())
    comments = Comment.objects.all()
    visibility = comment_visibility(user)
    if visibility is not None:
        comments = comments.filter(visibility)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        tickets = Ticket.objects.alias(_vector=ticket_vector()).filter(_vector=query)
        comments = comments.alias(_vector=comment_vector()).filter(_vector=query)
    else:
        tickets = Ticket.objects.filter(Q(title__icontains=text) | Q(description__icontains=text))
        comments = comments.filter(body__icontains=text)
    parts = [comments.order_by().values("ticket_id")]
    by_number = parse_number(text)
    if by_number is not None:
        parts.append(Ticket.objects.filter(pk=by_number).order_by().values("pk"))
    return tickets.order_by().values("pk").union(*parts)


def apply_search(queryset, user, text: str):
    """`queryset` (already scoped by `visible_tickets`) narrowed to tickets matching `text`."""
    return queryset.filter(pk__in=matching_ids(user, text))
