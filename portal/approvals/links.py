"""The signed approve / reject links of an approval request email.

A token names one approver row, the person it was sent to and the decision:
`/approvals/link/<token>`. It opens a confirmation page for that person signed in (a GET
decides nothing: mail scanners open every link); the POST decides through the same
service as the page. Forged or altered tokens fail the signature, old ones
APPROVAL_LINK_DAYS; a link for a row already decided, or a step no longer pending,
decides nothing (single use); someone else signed in is refused.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from portal.lib.signed_links import BadLink, sign, unsign

SALT = "portal.approvals.decision-link"
NOUN = "approval link"


@dataclass(frozen=True)
class LinkTarget:
    approver_id: int  # the Approver row
    user_id: int  # who it was sent to (the approver, or their delegate)
    decision: str


def link_path(approver_id: int, user_id: int, decision: str) -> str:
    token = sign({"a": approver_id, "u": user_id, "d": decision}, salt=SALT)
    return reverse("approval-link", args=[token])


def read_token(token: str) -> LinkTarget:
    max_age = dt.timedelta(days=settings.APPROVAL_LINK_DAYS)
    data = unsign(token, salt=SALT, max_age=max_age, noun=NOUN)
    try:
        return LinkTarget(int(data["a"]), int(data["u"]), str(data["d"]))
    except (KeyError, TypeError, ValueError) as error:
        raise BadLink(f"This {NOUN} is not valid.") from error
