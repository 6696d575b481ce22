import datetime as dt
from collections import Counter

import pytest
from django.db.models import F
from django.utils import timezone

from portal.accounts.models import User
from portal.analytics import rollup
from portal.core.demo import load_demo_users
from portal.notifications.models import Notification
from portal.tickets import demo
from portal.tickets.models import Comment, Status, Ticket, TicketEvent
from portal.tickets.transitions import REOPEN_WINDOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return {user.email: user for user in load_demo_users()}


@pytest.fixture
def loaded(users, monkeypatch):
    """The catalog demo and COUNT demo tickets, loaded once."""
    from portal.catalog import demo as catalog_demo

    catalog_demo.load(users)
    monkeypatch.setattr(demo, "COUNT", 120)
    return demo.load(users)


def test_demo_tickets_cover_every_status_with_comments_and_load_once(users, monkeypatch):
    from portal.catalog import demo as catalog_demo

    catalog_demo.load(users)
    monkeypatch.setattr(demo, "COUNT", 80)

    counts = demo.load(users)

    assert counts["tickets"] == 80 + len(demo.WAITING_UNMAPPED)
    # Every status a ticket is worked through (awaiting approval only where one is needed).
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert set(Status.values) - {Status.AWAITING} <= statuses <= set(Status.values)
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.public().exists()
    assert Ticket.objects.filter(requester=users["employee@example.com"]).exists()
    assert Ticket.objects.filter(requester=users["employee2@example.com"]).exists()
    assert Ticket.objects.filter(assignee=users["agent@example.com"]).exists()
    # Numbers follow creation times, and nothing is dated in the future.
    created = list(Ticket.objects.order_by("pk").values_list("created_at", flat=True))
    assert created == sorted(created)
    assert not Ticket.objects.filter(updated_at__gt=timezone.now()).exists()
    assert demo.load(users) == counts


def test_some_resolved_tickets_are_reopened_by_their_requester_within_the_window(loaded):
    reopens = TicketEvent.objects.filter(rollup.REOPEN, kind=TicketEvent.Kind.STATUS)
    assert reopens.count() >= 3
    # By the requester, as the lifecycle allows them, and then resolved again.
    assert not reopens.exclude(actor=F("ticket__requester")).exists()
    for reopen in reopens.select_related("ticket"):
        resolved = (
            TicketEvent.objects.filter(
                ticket=reopen.ticket_id,
                new_value=Status.RESOLVED,
                created_at__lte=reopen.created_at,
            )
            .order_by("-created_at")
            .first()
        )
        assert reopen.created_at - resolved.created_at <= REOPEN_WINDOW
        assert reopen.ticket.resolved_at > reopen.created_at
    # Fewer than one resolution in four is reopened: realistic, not a fault in the demo.
    resolutions = TicketEvent.objects.filter(rollup.RESOLUTION, kind=TicketEvent.Kind.STATUS)
    assert reopens.count() < resolutions.count() / 4


def test_creation_dates_spread_evenly_over_the_three_months(loaded):
    created = list(Ticket.objects.values_list("created_at", flat=True))
    per_day = Counter(rollup.local_day(at) for at in created)
    now = timezone.now()
    # 120 tickets over 90 days: no day holds more than 4 of them (the old skew towards
    # recent days put 15 % of them in the last two).
    assert max(per_day.values()) <= 4
    assert sum(at > now - dt.timedelta(days=2) for at in created) <= 5
    assert min(created) < now - dt.timedelta(days=demo.DAYS - 3)
    assert len(per_day) >= 0.6 * demo.DAYS


def test_a_second_run_adds_nothing(users, loaded):
    notifications, events = Notification.objects.count(), TicketEvent.objects.count()

    assert demo.load(users) == loaded
    assert (Notification.objects.count(), TicketEvent.objects.count()) == (notifications, events)


def test_without_the_catalog_demo_it_loads_nothing(users):
    assert demo.load(users) == {"tickets": 0}


def test_the_newest_demo_tickets_wait_unassigned_for_the_it_spoc(loaded):
    """The catalog demo's one gap has requests waiting: the SPOC's dashboard shows them."""
    from portal.analytics.dashboard import dashboard_context
    from portal.catalog.demo import GAP

    waiting = Ticket.objects.filter(category__name=GAP[1], status=Status.NEW)
    assert set(waiting.values_list("title", flat=True)) >= set(demo.WAITING_UNMAPPED)
    assert not waiting.filter(team__isnull=False).exists()
    assert not waiting.filter(assignee__isnull=False).exists()
    spoc = User.objects.get(email="spoc@example.com")
    figures = {f.key: f for _, group in dashboard_context(spoc)["sections"] for f in group}
    assert figures["groups_unmapped"].count >= len(demo.WAITING_UNMAPPED)
