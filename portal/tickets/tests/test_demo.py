import pytest
from django.utils import timezone

from portal.core.demo import load_demo_users
from portal.tickets import demo
from portal.tickets.models import Comment, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return {user.email: user for user in load_demo_users()}


def test_demo_tickets_cover_every_status_with_comments_and_load_once(users, monkeypatch):
    from portal.catalog import demo as catalog_demo

    catalog_demo.load(users)
    monkeypatch.setattr(demo, "COUNT", 80)

    counts = demo.load(users)

    assert counts["tickets"] == 80
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.filter(is_internal=False).exists()
    assert Ticket.objects.filter(requester=users["employee@example.com"]).exists()
    assert Ticket.objects.filter(requester=users["employee2@example.com"]).exists()
    assert Ticket.objects.filter(assignee=users["agent@example.com"]).exists()
    # Numbers follow creation times, and nothing is dated in the future.
    created = list(Ticket.objects.order_by("pk").values_list("created_at", flat=True))
    assert created == sorted(created)
    assert not Ticket.objects.filter(updated_at__gt=timezone.now()).exists()
    assert demo.load(users) == counts


def test_without_the_catalog_demo_it_loads_nothing(users):
    assert demo.load(users) == {"tickets": 0}
