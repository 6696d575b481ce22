"""The signed rating link: `/rate/<token>`, a capability for one resolution of one ticket.

The token is `django.core.signing` over (ticket id, resolved_at) with its own salt and a
timestamp: a forged or altered token fails the signature, an old one fails `max_age`
(CSAT_LINK_DAYS), and once that resolution is rated the service refuses a second rating
(single use). A reopened ticket's token rates nothing: its resolution no longer stands.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from portal.lib.signed_links import BadLink, sign, unsign

SALT = "portal.csat.rating-link"


@dataclass(frozen=True)
class LinkTarget:
    ticket_id: int
    resolved_at: dt.datetime


def make_token(ticket) -> str:
    return sign({"t": ticket.pk, "r": ticket.resolved_at.isoformat()}, salt=SALT)


def rating_path(ticket, score: str | None = None) -> str:
    path = reverse("csat-rate", args=[make_token(ticket)])
    return f"{path}?score={score}" if score else path


def read_token(token: str) -> LinkTarget:
    max_age = dt.timedelta(days=settings.CSAT_LINK_DAYS)
    data = unsign(token, salt=SALT, max_age=max_age, noun="rating link")
    try:
        return LinkTarget(int(data["t"]), dt.datetime.fromisoformat(data["r"]))
    except (KeyError, TypeError, ValueError) as error:
        raise BadLink("This rating link is not valid.") from error
