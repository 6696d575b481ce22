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
from portal.tickets.models import Comment, parse_number

CONFIG = "simple"


def ticket_vector() -> SearchVector:
    """The ticket text expression; the GIN index in migration 0002 is built from this."""
    return SearchVector("title", "description", config=CONFIG)


def comment_vector() -> SearchVector:
    return SearchVector("body", config=CONFIG)


def search_condition(user, text: str) -> Q:
    """A Q on Ticket matching `text` for `user`; apply to a `visible_tickets` queryset."""
    text = " ".join(text.split())
    by_number = parse_number(text)
    condition = Q(pk=by_number) if by_number is not None else Q(pk__in=[])
    comments = Comment.objects.all()
    visibility = comment_visibility(user)
    if visibility is not None:
        comments = comments.filter(visibility)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        matching_comments = (
            comments.annotate(_vector=comment_vector()).filter(_vector=query).values("ticket_id")
        )
        return condition | Q(_search_vector=query) | Q(pk__in=matching_comments)
    matching_comments = comments.filter(body__icontains=text).values("ticket_id")
    return (
        condition
        | Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(pk__in=matching_comments)
    )


def apply_search(queryset, user, text: str):
    if connection.vendor == "postgresql":
        queryset = queryset.alias(_search_vector=ticket_vector())
    return queryset.filter(search_condition(user, text))
