"""Who may open a page, as view decorators: the only definitions in the portal.

Both ask the predicates of `portal.accounts.roles` (`is_admin`, `works_tickets`), the same
ones the API's guards (`portal.api.guards`) ask, so "who is an admin" and "who works
tickets" are decided in one place for pages and API alike.

A signed-in user without the role gets 403 with `reason` on the page (and a
`portal.security` log line from the 403 handler): a section's existence is no secret,
and a clear "not for you" beats pretending it is missing. Things whose *identity* is data
(a ticket number) answer 404 instead, through the access layer. Anonymous visitors never
get here: LoginRequiredMiddleware sends them to sign in first.

Use them bare (`@admin_required`) or with the reason the page gives
(`@admin_required(reason="Only admins can manage users.")`), like Django's own
`login_required`.
"""

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal.accounts.roles import is_admin, works_tickets

if TYPE_CHECKING:
    from portal.accounts.types import Visitor

ADMINS_ONLY = "This page is for admins."
WORKERS_ONLY = "This page is for people who work tickets."


def admin_required(view=None, /, *, reason: str = ADMINS_ONLY):
    """Admins only (the active staff flag); anyone else signed in gets 403."""
    return _guard(view, is_admin, reason)


def works_tickets_required(view=None, /, *, reason: str = WORKERS_ONLY):
    """Admins, SPOCs and agents (leads included); requesters get 403."""
    return _guard(view, works_tickets, reason)


def _guard(view, allowed: Callable[["Visitor"], bool], reason: str):
    def wrap(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied(reason)
            return view(request, *args, **kwargs)

        return wrapper

    return wrap(view) if view is not None else wrap
