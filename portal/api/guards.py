"""Who may call an endpoint: the API's only role checks.

They ask the same predicates as the pages' decorators (`portal.accounts.decorators`):
`portal.accounts.roles.is_admin` and `works_tickets`, so pages and API never disagree about
who is an admin or who works tickets. A refusal raises `PermissionDenied`, which the
problem handlers answer with a 403 problem carrying `reason` as its detail. Call a guard
first thing in the endpoint (after `reject_unknown_query`), before any lookup, so a
refused caller learns nothing about which ids exist.

Per-ticket rules (may this person assign *this* ticket?) are not roles: they live in the
access layer (`portal.tickets.access.can_*`).
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal.accounts.roles import is_admin, works_tickets

ADMINS_ONLY = "Only admins can do this."
WORKERS_ONLY = "Only people who work tickets can do this."


def require_admin(request: HttpRequest, reason: str = ADMINS_ONLY) -> None:
    """The caller (`request.auth`) is an admin, or 403."""
    if not is_admin(request.auth):
        raise PermissionDenied(reason)


def require_ticket_worker(request: HttpRequest, reason: str = WORKERS_ONLY) -> None:
    """The caller is an admin, a SPOC or an agent (leads included), or 403."""
    if not works_tickets(request.auth):
        raise PermissionDenied(reason)
