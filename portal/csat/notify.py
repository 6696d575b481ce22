"""Who is told what about ratings (the notifications app delivers):
- a ticket resolved: its requester is asked to rate it (`csat_request`, with the signed
  good / bad links in the email);
- a bad rating: the leads of the ticket's team, or the group's SPOCs when it has no team
  or the team no active lead (`csat_bad`), so a person who can act always hears of it."""

from django.conf import settings

from portal.catalog.models import TeamMember
from portal.csat import links
from portal.notifications.kinds import Kind
from portal.notifications.services import absolute_url, notify
from portal.tickets.notify import thread_key

ASK = "How did we do on {number}? {title}"
BAD = "{number} was rated bad by its requester: {title}"

_SAMPLE = {
    "number": "TKT-000123",
    "title": "Printer on floor 3 jams on every job",
    "requester_name": "Emma Employee",
    "team_name": "IT Service Desk",
    "good_url": "https://portal.example.com/rate/sample?score=good",
    "bad_url": "https://portal.example.com/rate/sample?score=bad",
    "link_days": 14,
    "score": "Bad",
    "comment": "It jams again since this morning.",
}

KINDS = [
    Kind(
        "csat_request",
        "Rate the resolution of a ticket I raised",
        "csat_request",
        lambda: {**_SAMPLE, "text": ASK.format(**_SAMPLE)},
    ),
    Kind(
        "csat_bad",
        "A requester rated my team's resolution bad",
        "csat_bad",
        lambda: {**_SAMPLE, "text": BAD.format(**_SAMPLE)},
    ),
]


def _context(ticket, text: str, **extra) -> dict:
    return {
        "number": ticket.number,
        "title": ticket.title,
        "requester_name": str(ticket.requester),
        "team_name": ticket.team.name if ticket.team_id else "",
        "text": text,
        **extra,
    }


def ask(ticket) -> None:
    """Ask the requester to rate the resolution that just happened."""
    text = ASK.format(number=ticket.number, title=ticket.title)
    notify(
        recipients=[ticket.requester],
        kind="csat_request",
        text=text,
        link=ticket.get_absolute_url() + "#rating",
        context=_context(
            ticket,
            text,
            good_url=absolute_url(links.rating_path(ticket, "good")),
            bad_url=absolute_url(links.rating_path(ticket, "bad")),
            link_days=settings.CSAT_LINK_DAYS,
        ),
        event_key=f"ticket:{ticket.pk}:csat:{ticket.resolved_at.isoformat()}",
        thread_key=thread_key(ticket),
        thread_tag=ticket.number,
    )


def _leads_or_spocs(ticket) -> list:
    leads = []
    if ticket.team_id:
        leads = [
            member.user
            for member in TeamMember.objects.select_related("user").filter(
                team_id=ticket.team_id, role=TeamMember.Role.LEAD, is_active=True
            )
        ]
    return leads or list(ticket.group.spocs.filter(is_active=True))


def bad_rating(ticket, rating) -> None:
    text = BAD.format(number=ticket.number, title=ticket.title)
    notify(
        recipients=_leads_or_spocs(ticket),
        kind="csat_bad",
        text=text,
        link=ticket.get_absolute_url() + "#rating",
        context=_context(ticket, text, score=rating.get_score_display(), comment=rating.comment),
        event_key=f"ticket:{ticket.pk}:csat-bad:{rating.pk}",
        thread_key=thread_key(ticket),
        thread_tag=ticket.number,
    )
