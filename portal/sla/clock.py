"""One SLA target's clock: when it turns at risk, when it is due, and its state now.

Pure, like business_time: the tickets app stores `at_risk_at` and `due_at` (indexed, so
the periodic task finds what changed with a range query) and recomputes them whenever the
history behind them changes (status in or out of On hold, priority, classification).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from portal.sla.business_time import Calendar, due_at

# "At risk at 80 % elapsed", as a fraction so the threshold is exact to the microsecond.
AT_RISK_NUMERATOR, AT_RISK_DENOMINATOR = 4, 5


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


@dataclass(frozen=True)
class Deadlines:
    """When the clock crosses 80 % and 100 % of the target; None while paused short of it."""

    at_risk_at: datetime | None
    due_at: datetime | None


def at_risk_threshold(target: timedelta) -> timedelta:
    """80 % of `target`, rounded down to the microsecond (integer arithmetic, no floats)."""
    return target * AT_RISK_NUMERATOR // AT_RISK_DENOMINATOR


def deadlines(
    calendar: Calendar,
    start: datetime,
    target: timedelta,
    pauses: list[tuple[datetime, datetime | None]] | tuple = (),
) -> Deadlines:
    """Both instants for a target measured from `start` with the clock stopped in `pauses`."""
    return Deadlines(
        at_risk_at=due_at(calendar, start, at_risk_threshold(target), pauses),
        due_at=due_at(calendar, start, target, pauses),
    )


def state(deadlines: Deadlines, now: datetime, *, met_at: datetime | None = None) -> SlaState:
    """The state of one target at `now`.

    Met (responded/resolved) on or before the due time is MET, after it BREACHED, whatever
    `now` is. Otherwise past the due time is BREACHED, past 80 % is AT_RISK (even while
    paused: the time already used stays used), paused short of 80 % is PAUSED.
    """
    due, at_risk = deadlines.due_at, deadlines.at_risk_at
    if met_at is not None:
        return SlaState.MET if due is None or met_at <= due else SlaState.BREACHED
    if due is not None and now >= due:
        return SlaState.BREACHED
    if at_risk is not None and now >= at_risk:
        return SlaState.AT_RISK
    if due is None:
        return SlaState.PAUSED
    return SlaState.ON_TRACK
