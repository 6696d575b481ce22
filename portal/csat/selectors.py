"""Reading ratings, always through the tickets a person may see (tickets.access)."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from portal.csat.models import Rating, Score
from portal.tickets import access
from portal.tickets.models import Status


def ratings_on(user, ticket) -> QuerySet[Rating]:
    """The ratings of a ticket the user already may see: its requester and the people
    working it read them (the requester's own words); anyone else nothing."""
    if not (access.is_worker(user, ticket) or ticket.requester_id == user.pk):
        return Rating.objects.none()
    return Rating.objects.filter(ticket=ticket)


def may_rate_now(user, ticket, ratings: list[Rating], now: dt.datetime) -> bool:
    """Whether the page offers the requester the rating form for the current resolution."""
    return (
        ticket.requester_id == user.pk
        and ticket.status in (Status.RESOLVED, Status.CLOSED)
        and ticket.resolved_at is not None
        and now - ticket.resolved_at <= dt.timedelta(days=settings.CSAT_LINK_DAYS)
        and not any(r.resolved_at == ticket.resolved_at for r in ratings)
    )


# Dimension → (the rating's column grouped by, the name shown for it). Allow-list.
DIMENSIONS = {
    "team": ("team_id", "team__name"),
    "agent": ("assignee_id", "assignee__full_name"),
    "category": ("category_id", "category__name"),
}


def figures(user, *, by: str, start: dt.date, end: dt.date) -> list[dict]:
    """Good / bad counts per team, agent or category for ratings given from `start` to
    `end` (inclusive, local dates) on tickets the user works; one query."""
    key, name = DIMENSIONS[by]
    good, bad = Q(score=Score.GOOD), Q(score=Score.BAD)
    rows = (
        Rating.objects.filter(access.worker_scope(user, "ticket__"))
        .filter(created_at__date__gte=start, created_at__date__lte=end)
        .values(key)
        .annotate(label=F(name), good=Count("pk", filter=good), bad=Count("pk", filter=bad))
        .order_by(F("label").asc(nulls_last=True), key)
    )
    result = []
    for row in rows:
        total = row["good"] + row["bad"]
        result.append(
            {
                "id": row[key],
                "name": row["label"] or "(none)",
                "good": row["good"],
                "bad": row["bad"],
                "total": total,
                "good_percent": round(100 * row["good"] / total) if total else None,
            }
        )
    return result
