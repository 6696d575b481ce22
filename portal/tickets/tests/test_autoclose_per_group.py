"""A business unit group's own On-hold rules: its tickets are reminded and closed after
its values, the other groups' after the global settings; 0 turns a rule off for it."""

import datetime as dt

import pytest

from portal.catalog import services as catalog_services
from portal.notifications.models import Notification
from portal.tickets import services
from portal.tickets.models import Status, Ticket
from portal.tickets.tests.sla_fixtures import T0, clock_at
from portal.tickets.tests.test_autoclose import DAY, _run, _ticket_in, told

pytestmark = pytest.mark.django_db


def _set(group, *, remind, close):
    catalog_services.group_update(
        group=group, name=group.name, code=group.code, spocs=list(group.spocs.all()),
        hold_reminder_days=remind, hold_close_days=close,
    )  # fmt: skip


def test_a_group_with_its_own_values_reminds_and_closes_sooner(raise_ticket, personas, org):
    _set(org.group_y, remind=1, close=2)
    with clock_at(T0):
        # Group Y's ticket has no team: the admin puts it on hold.
        own = raise_ticket(group=org.group_y, category=org.payroll, subcategory=None)
        services.ticket_change_status(actor=personas.admin, ticket=own, status=Status.ON_HOLD)
    default = _ticket_in(raise_ticket, personas, Status.ON_HOLD)  # group X: 3 and 10 days
    Notification.objects.all().delete()
    assert _run(T0 + DAY - dt.timedelta(seconds=1)) == {"reminded": 0, "closed": 0}
    assert _run(T0 + DAY) == {"reminded": 1, "closed": 0}
    assert _run(T0 + 2 * DAY) == {"reminded": 0, "closed": 1}
    assert Ticket.objects.get(pk=own.pk).status == Status.CLOSED
    assert Ticket.objects.get(pk=default.pk).status == Status.ON_HOLD
    assert _run(T0 + 3 * DAY) == {"reminded": 1, "closed": 0}
    assert told("ticket_reminder") == {"requester@example.com": 2}


def test_zero_turns_a_rule_off_for_the_group_only(raise_ticket, personas, org, settings):
    _set(org.group_x, remind=0, close=0)
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    assert _run(T0 + 100 * DAY) == {"reminded": 0, "closed": 0}
    _set(org.group_x, remind=None, close=None)  # back to the global settings
    settings.HOLD_REMINDER_DAYS = 0
    assert _run(T0 + 100 * DAY) == {"reminded": 0, "closed": 1}
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin", 302), ("spoc", 403), ("agent", 403), ("requester", 403), ("outsider", 403)],
)
def test_admins_edit_a_groups_on_hold_rules_on_the_masters_page(
    persona, expected, personas, org, client_for
):
    group = org.group_x
    response = client_for(getattr(personas, persona)).post(
        f"/masters/groups/{group.pk}",
        {"name": group.name, "code": group.code, "spocs": "spoc@example.com",
         "hold_reminder_days": "2", "hold_close_days": ""},
    )  # fmt: skip
    assert response.status_code == expected
    group.refresh_from_db()
    assert (group.hold_reminder_days, group.hold_close_days) == (
        (2, None) if expected == 302 else (None, None)
    )


def test_a_negative_value_is_refused_on_the_page(personas, org, client_for):
    group = org.group_x
    response = client_for(personas.admin).post(
        f"/masters/groups/{group.pk}",
        {"name": group.name, "code": group.code, "hold_reminder_days": "-1"},
    )
    assert response.status_code in (200, 400)
    assert b"hold_reminder_days" in response.content
    group.refresh_from_db()
    assert group.hold_reminder_days is None
