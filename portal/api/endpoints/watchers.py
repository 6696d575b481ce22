"""/tickets/{number}/watchers: who is told about a ticket, and watching it yourself.

As on the ticket page, anyone who may see a ticket may watch it, and only for themself
(`services.ticket_watch`): nobody signs someone else up. The page shows a person only
whether they watch; the list here shows people working the ticket every (active) watcher,
and everyone else only themself, so a requester learns nothing about colleagues.
"""

from django.http import HttpRequest
from ninja import Query, Router

from portal.accounts.models import User
from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import (
    CursorQuery,
    VisibleTicket,
    WatcherPage,
    WatchOut,
    reject_unknown_query,
)
from portal.lib import keyset
from portal.tickets import access, services

router = Router(tags=["watchers"])

BY_ID = keyset.Sort("Oldest first", (("id", False),))


@router.get(
    "/{number}/watchers",
    response={200: WatcherPage, 400: Problem, 404: Problem},
    summary="List watchers",
)
def watcher_list(request: HttpRequest, ticket: VisibleTicket, page: Query[CursorQuery]):
    """Whether you watch the ticket, and its watchers: all of them for people working it,
    only you for anyone else."""
    reject_unknown_query(request, CursorQuery)
    user = request.auth
    watchers = User.objects.filter(watched_tickets=ticket, is_active=True)
    watching = watchers.filter(pk=user.pk).exists()
    if not access.is_worker(user, ticket):
        watchers = watchers.filter(pk=user.pk)
    rows, next_cursor = keyset.page(watchers, BY_ID, page.after, page.per_page)
    return {
        "watching": watching,
        "items": [serializers.person(u) for u in rows],
        "next_cursor": next_cursor,
    }


def _watch(request: HttpRequest, ticket, watch: bool) -> dict:
    user = request.auth
    changed = services.ticket_watch(actor=user, ticket=ticket, watch=watch)
    return {"watching": watch, "changed": changed}


@router.put(
    "/{number}/watchers/me",
    response={200: WatchOut, 404: Problem},
    summary="Watch the ticket",
)
def watch(request: HttpRequest, ticket: VisibleTicket):
    """Be told about status changes and public comments (idempotent)."""
    return _watch(request, ticket, True)


@router.delete(
    "/{number}/watchers/me",
    response={200: WatchOut, 404: Problem},
    summary="Stop watching the ticket",
)
def unwatch(request: HttpRequest, ticket: VisibleTicket):
    """Idempotent; the requester and the assignee are still told as such."""
    return _watch(request, ticket, False)
