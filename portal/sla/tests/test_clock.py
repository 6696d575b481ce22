"""An SLA target's clock: at risk at 80 %, breached at 100 %, paused while On hold."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.sla.business_time import elapsed_business_time
from portal.sla.clock import Deadlines, SlaState, at_risk_threshold, deadlines, state
from portal.sla.tests.strategies import durations, scenarios
from portal.sla.tests.test_business_time_examples import at, weekday_calendar

pytestmark = pytest.mark.smoke

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
MONDAY_9 = at(LONDON, 2026, 11, 23, 9, 0)


def test_a_four_hour_target_is_at_risk_after_3h12_and_breached_after_4h():
    clock = deadlines(weekday_calendar(), MONDAY_9, 4 * H)
    assert clock == Deadlines(
        at_risk_at=at(LONDON, 2026, 11, 23, 12, 12), due_at=at(LONDON, 2026, 11, 23, 13, 0)
    )
    assert state(clock, at(LONDON, 2026, 11, 23, 12, 11)) is SlaState.ON_TRACK
    assert state(clock, at(LONDON, 2026, 11, 23, 12, 12)) is SlaState.AT_RISK
    assert state(clock, at(LONDON, 2026, 11, 23, 13, 0)) is SlaState.BREACHED


def test_met_before_the_due_time_stays_met_and_after_it_stays_breached():
    clock = deadlines(weekday_calendar(), MONDAY_9, 4 * H)
    later = at(LONDON, 2027, 1, 1, 0, 0)
    assert state(clock, later, met_at=at(LONDON, 2026, 11, 23, 13, 0)) is SlaState.MET
    assert state(clock, later, met_at=at(LONDON, 2026, 11, 23, 13, 1)) is SlaState.BREACHED


def test_on_hold_stops_the_clock_and_keeps_time_already_used():
    on_hold_early = [(at(LONDON, 2026, 11, 23, 10, 0), None)]
    clock = deadlines(weekday_calendar(), MONDAY_9, 4 * H, on_hold_early)
    assert clock == Deadlines(None, None)
    assert state(clock, at(LONDON, 2026, 12, 31, 0, 0)) is SlaState.PAUSED
    # Paused after 80 % was used: at risk it stays, but it cannot breach while paused.
    on_hold_late = [(at(LONDON, 2026, 11, 23, 12, 30), None)]
    clock = deadlines(weekday_calendar(), MONDAY_9, 4 * H, on_hold_late)
    assert clock.due_at is None and clock.at_risk_at == at(LONDON, 2026, 11, 23, 12, 12)
    assert state(clock, at(LONDON, 2026, 12, 31, 0, 0)) is SlaState.AT_RISK


def test_resuming_moves_both_deadlines_by_the_working_time_spent_on_hold():
    on_hold = [(at(LONDON, 2026, 11, 23, 10, 0), at(LONDON, 2026, 11, 24, 10, 0))]
    clock = deadlines(weekday_calendar(), MONDAY_9, 4 * H, on_hold)
    assert clock == Deadlines(
        at_risk_at=at(LONDON, 2026, 11, 24, 12, 12), due_at=at(LONDON, 2026, 11, 24, 13, 0)
    )


@given(st.integers(0, 10**12).map(lambda us: timedelta(microseconds=us)))
def test_the_threshold_is_exactly_four_fifths_rounded_down(target):
    threshold = at_risk_threshold(target)
    assert threshold * 5 <= target * 4 < (threshold + timedelta(microseconds=1)) * 5


@given(scenarios(), durations)
def test_at_risk_never_comes_after_due_and_each_marks_its_share_of_the_target(scenario, target):
    calendar, start = scenario
    clock = deadlines(calendar, start, target)
    assert clock.at_risk_at <= clock.due_at
    assert elapsed_business_time(calendar, start, clock.at_risk_at) == at_risk_threshold(target)
    assert elapsed_business_time(calendar, start, clock.due_at) == target
