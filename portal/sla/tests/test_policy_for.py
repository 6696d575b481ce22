"""Which policy a ticket is held to: category override > group override > default."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.sla.business_time import add_business_time
from portal.sla.models import SlaPolicy
from portal.sla.selectors import default_calendar, policy_for
from portal.sla.tests.conftest import targets

H = timedelta(hours=1)


@pytest.fixture
def overrides(org, office, default_policy):
    group_policy = SlaPolicy.objects.create(
        name="Group X", calendar=office, group=org.group_x, **targets(10)
    )
    category_policy = SlaPolicy.objects.create(
        name="Hardware", calendar=office, category=org.hardware, **targets(100)
    )
    return group_policy, category_policy


def test_the_category_override_beats_the_group_override(org, overrides):
    resolved = policy_for(org.group_x.pk, org.hardware.pk, "urgent")
    assert (resolved.policy_name, resolved.first_response, resolved.resolution) == (
        "Hardware",
        100 * H,
        200 * H,
    )


def test_the_group_override_applies_to_the_groups_other_categories(org, overrides):
    from portal.catalog.models import Category

    network = Category.objects.create(group=org.group_x, name="Network")
    resolved = policy_for(org.group_x.pk, network.pk, "high")
    assert (resolved.policy_name, resolved.first_response, resolved.resolution) == (
        "Group X",
        30 * H,
        40 * H,
    )


def test_other_groups_get_the_default_policy(org, overrides):
    resolved = policy_for(org.group_y.pk, org.payroll.pk, "low")
    assert (resolved.policy_name, resolved.first_response, resolved.resolution) == (
        "Standard",
        7 * H,
        8 * H,
    )


def test_each_priority_has_its_own_targets(org, default_policy):
    got = {p: policy_for(org.group_y.pk, None, p).first_response for p in ("low", "urgent")}
    assert got == {"low": 7 * H, "urgent": 1 * H}


def test_an_inactive_override_is_ignored(org, overrides):
    _group_policy, category_policy = overrides
    category_policy.is_active = False
    category_policy.save()
    assert policy_for(org.group_x.pk, org.hardware.pk, "urgent").policy_name == "Group X"


def test_without_an_active_default_an_unscoped_ticket_has_no_policy(org, default_policy):
    default_policy.is_active = False
    default_policy.save()
    assert policy_for(org.group_y.pk, org.payroll.pk, "urgent") is None


def test_an_unknown_priority_is_an_error_not_a_guess(org, default_policy):
    with pytest.raises(ValueError):
        policy_for(org.group_y.pk, None, "whenever")


def test_lookup_takes_three_queries_whichever_policy_wins(
    org, overrides, django_assert_num_queries
):
    for group_id, category_id in [
        (org.group_x.pk, org.hardware.pk),  # category override
        (org.group_x.pk, None),  # group override
        (org.group_y.pk, org.payroll.pk),  # default
    ]:
        # 1: candidate policies with their calendar; 2: working hours; 3: holidays.
        with django_assert_num_queries(3):
            policy_for(group_id, category_id, "medium")


def test_the_resolved_calendar_computes_due_times_with_the_holidays(org, default_policy):
    resolved = policy_for(org.group_y.pk, None, "urgent")
    christmas_eve_late = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert date(2026, 12, 25) in resolved.calendar.holidays
    assert add_business_time(resolved.calendar, christmas_eve_late, resolved.first_response) == (
        datetime(2026, 12, 28, 9, 30, tzinfo=UTC)
    )


def test_only_one_active_policy_per_scope(org, overrides, office):
    duplicate = SlaPolicy(name="Another", calendar=office, category=org.hardware, **targets(1))
    with pytest.raises(ValidationError, match="already has an active policy"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_policy_cannot_override_a_group_and_a_category(org, office):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.create(
            name="Both", calendar=office, group=org.group_x, category=org.hardware, **targets(1)
        )


def test_the_default_calendar_loads_as_a_value_object(office, django_assert_num_queries):
    with django_assert_num_queries(3):  # calendar, its working hours, its holidays
        calendar = default_calendar()
    assert calendar.zone.key == "Europe/London"
    assert calendar.holidays == {date(2026, 12, 25)}
