"""Small helpers the master-data and team screens share (who may open them:
`portal.accounts.decorators`)."""

from contextlib import contextmanager

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBadRequest

from portal.accounts.roles import user_roles
from portal.catalog import coverage

PER_PAGE = 50
# Why a master-data screen answers 403 to someone who is not an admin.
MASTER_DATA = "Only admins can change master data."


def may_manage_team(user, team_id: int) -> bool:
    """Admins manage every team's members; a lead manages their own team's."""
    roles = user_roles(user)
    return roles.is_admin or team_id in roles.lead_team_ids


def bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@contextmanager
def warn_of_new_gaps(request: HttpRequest):
    """Around a master-data change: warn when it leaves some ticket reaching nobody in a
    team (the last member gone, the last SPOC removed, a route to an inactive team…).

    The change is not refused (a team may be restaffed tomorrow), but the admin learns at
    once where tickets will now wait. A refused change (an exception) warns of nothing.
    """
    before = coverage.gap_snapshot()
    yield
    for gap in coverage.new_gaps(before, coverage.gap_snapshot()):
        messages.warning(
            request,
            f"This leaves a gap: {gap}. Tickets there wait for the group's SPOC, or the "
            "admins on triage duty; the coverage report lists every gap.",
        )
