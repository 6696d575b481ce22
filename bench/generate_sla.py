"""Service levels for the benchmark data set: calendars, policies, and each ticket's clocks.

Used by bench/generate.py. The targets are the demo's (portal/sla/demo.py): a default
policy *Standard* on the *UK office* calendar (Europe/London, Monday to Friday 09:00-17:30,
England and Wales bank holidays of every year the data spans), *Faster for IT* for the IT
group, and a category override *Security incidents* on a 24x7 calendar, so the three
scopes of `policy_for` (category beats group beats default) and two calendars all occur.

Business time is exact, not a wall-clock approximation: `Clock` lays out the working
pieces of every local date the data can touch with the portal's own
`business_time.day_pieces` (holidays, DST and all), once, as a cumulative table in integer
microseconds. Adding a target is then two binary searches instead of a walk over days, and
`Clock.check` compares a sample against `business_time.add_business_time` before the load
(a mismatch stops it). What each ticket stores follows portal/tickets/sla.py (see
`TicketClocks`).
"""

import bisect
import datetime as dt
import random
from dataclasses import dataclass

from portal.sla.business_time import Calendar, add_business_time, day_pieces

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
H = dt.timedelta(hours=1)
SECURITY_TARGETS = {
    "urgent": (dt.timedelta(minutes=15), 2 * H),
    "high": (1 * H, 8 * H),
    "medium": (4 * H, 24 * H),
    "low": (8 * H, 72 * H),
}
OFFICE_HOURS = {day: [(dt.time(9), dt.time(17, 30))] for day in range(5)}
ALL_DAY = {day: [(dt.time(0), dt.time(0))] for day in range(7)}  # 00:00-24:00
# (name, zone, hours, is_default, bank holidays)
CALENDARS = (
    ("UK office", "Europe/London", OFFICE_HOURS, True, True),
    ("24x7", "UTC", ALL_DAY, False, False),
)
# (name, calendar index, scope ("default" | ("group", code) | ("category", group, name)), targets)
# (targets: the demo's by name, imported once Django is set up, or a dict)
POLICIES = (
    ("Standard", 0, "default", "STANDARD_TARGETS"),
    ("Faster for IT", 0, ("group", "IT"), "FASTER_TARGETS"),
    ("Security incidents", 1, ("category", "IT", "Security"), SECURITY_TARGETS),
)
# Lines crossed less than this long ago are left for the escalation task (its backlog);
# older ones carry the marker the task would have set a few seconds after the crossing.
RECENT = 10 * 60 * US
WORKER_PERIOD = 60 * US  # escalate_sla runs every minute


def stamp_us(us: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat()


def to_us(value: dt.datetime) -> int:
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def uk_bank_holidays(year: int) -> list[tuple[dt.date, str]]:
    """England and Wales bank holidays by the usual rules (one-off extra days left out)."""

    def monday(day: dt.date, step: int) -> dt.date:
        while day.weekday() != 0:
            day += dt.timedelta(days=step)
        return day

    def substitute(day: dt.date, taken: set) -> dt.date:
        while day.weekday() >= 5 or day in taken:
            day += dt.timedelta(days=1)
        return day

    easter = _easter(year)
    days = [
        (substitute(dt.date(year, 1, 1), set()), "New Year's Day"),
        (easter - dt.timedelta(days=2), "Good Friday"),
        (easter + dt.timedelta(days=1), "Easter Monday"),
        (monday(dt.date(year, 5, 1), 1), "Early May bank holiday"),
        (monday(dt.date(year, 5, 31), -1), "Spring bank holiday"),
        (monday(dt.date(year, 8, 31), -1), "Summer bank holiday"),
    ]
    christmas = substitute(dt.date(year, 12, 25), set())
    boxing = substitute(dt.date(year, 12, 26), {christmas})
    days += [(christmas, "Christmas Day"), (boxing, "Boxing Day")]
    return days


class Clock:
    """Business time of one calendar as a cumulative table over a range of dates.

    `pieces` are the working pieces (start, end) in microseconds since the epoch, sorted;
    `before[i]` is the working time before piece i. Exact for every instant in the range
    (what `add_business_time` and `business_time_between` would answer).
    """

    def __init__(self, calendar: Calendar, first: dt.date, last: dt.date):
        starts, ends, before = [], [], []
        total = 0
        day = first
        while day <= last:
            for start, end in day_pieces(calendar, day):
                s, e = to_us(start), to_us(end)
                if starts and s <= ends[-1]:  # touching (24x7) or DST-shifted: merge
                    total += max(e, ends[-1]) - ends[-1]
                    ends[-1] = max(e, ends[-1])
                    continue
                starts.append(s)
                ends.append(e)
                before.append(total)
                total += e - s
            day += dt.timedelta(days=1)
        self.calendar, self.starts, self.ends, self.before = calendar, starts, ends, before
        self.low, self.high = starts[0], ends[-1]

    def position(self, us: int) -> int:
        """Working time from the table's start to `us`."""
        i = bisect.bisect_right(self.starts, us) - 1
        if i < 0:
            return 0
        return self.before[i] + min(us, self.ends[i]) - self.starts[i]

    def at(self, position: int) -> int:
        """The earliest instant whose position is `position` (a closing time, not the next
        opening, when it falls on a piece's end: as add_business_time)."""
        i = bisect.bisect_left(self.before, position) - 1
        if i < 0 or position - self.before[i] > self.ends[i] - self.starts[i]:
            raise ValueError("outside the precomputed range of working time")
        return self.starts[i] + position - self.before[i]

    def add(self, start: int, duration: int) -> int:
        return self.at(self.position(start) + duration)

    def check(self, rng: random.Random, low: int, high: int, durations: list[int]) -> int:
        """Compare 200 random sums with business_time.add_business_time; stop on a mismatch."""
        for _ in range(200):
            start = rng.randint(low, high)
            duration = rng.choice(durations)
            ours = self.add(start, duration)
            theirs = to_us(
                add_business_time(
                    self.calendar,
                    EPOCH + dt.timedelta(microseconds=start),
                    dt.timedelta(microseconds=duration),
                )
            )
            if ours != theirs:
                raise SystemExit(
                    f"bench/generate_sla.py disagrees with business_time for {stamp_us(start)}"
                    f" + {duration} us: {stamp_us(ours)} != {stamp_us(theirs)}"
                )
        return 200


@dataclass
class Policy:
    id: int
    name: str
    calendar_id: int
    clock: Clock
    targets: dict  # priority → (first response us, resolution us)


class ServiceLevels:
    """The calendars and policies loaded with the organisation, and which applies where."""

    def __init__(self, categories: list, groups: list, start: float, now: float):
        self.calendars, self.hours, self.holidays, self.policies = [], [], [], []
        first = dt.datetime.fromtimestamp(start, UTC).date() - dt.timedelta(days=7)
        # The longest target is 5 working days: a quarter of a year is ample headroom.
        last = dt.datetime.fromtimestamp(now, UTC).date() + dt.timedelta(days=92)
        clocks = []
        for index, (name, zone, hours, is_default, bank) in enumerate(CALENDARS):
            cal_id = index + 1
            self.calendars.append((cal_id, name, zone, is_default))
            for weekday, intervals in hours.items():
                for start_time, end_time in intervals:
                    self.hours.append((cal_id, weekday, start_time, end_time))
            dates = []
            if bank:
                for year in range(first.year, last.year + 1):
                    for day, label in uk_bank_holidays(year):
                        dates.append(day)
                        self.holidays.append((cal_id, day, label))
            calendar = Calendar.build(zone, hours, dates)
            clocks.append(Clock(calendar, first, last))
        group_id = {code: gid for gid, _, code in groups}
        category_id = {
            (code, name): cid for cid, _, name, _, code in categories
        }  # (group code, name) → id
        self.default = None
        self.by_group, self.by_category = {}, {}
        from portal.sla import demo

        for index, (name, cal_index, scope, targets) in enumerate(POLICIES):
            pid = index + 1
            if isinstance(targets, str):
                targets = getattr(demo, targets)
            in_us = {
                p: (
                    first_response // dt.timedelta(microseconds=1),
                    res // dt.timedelta(microseconds=1),
                )
                for p, (first_response, res) in targets.items()
            }
            policy = Policy(pid, name, cal_index + 1, clocks[cal_index], in_us)
            group = category = None
            if scope == "default":
                self.default = policy
            elif scope[0] == "group":
                group = group_id[scope[1]]
                self.by_group[group] = policy
            else:
                category = category_id[(scope[1], scope[2])]
                self.by_category[category] = policy
            self.policies.append((pid, name, cal_index + 1, group, category, targets))
        self.clocks = clocks
        self.checked = 0
        low, high = to_us(dt.datetime.fromtimestamp(start, UTC)), int(now * US)
        rng = random.Random(7)
        for policy in {id(p.clock): p for p in self._all()}.values():
            durations = [d for pair in policy.targets.values() for d in pair]
            durations += [d * 4 // 5 for d in durations]
            self.checked += policy.clock.check(rng, low, high, durations)

    def _all(self) -> list[Policy]:
        return [self.default, *self.by_group.values(), *self.by_category.values()]

    def policy_for(self, group_id: int, category_id: int) -> Policy:
        """Category override, else group override, else the default (selectors.policy_for)."""
        return self.by_category.get(category_id) or self.by_group.get(group_id) or self.default

    def load(self, cursor, table_cls, now: str) -> None:
        from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours

        table_cls(BusinessCalendar, ["id", "name", "time_zone", "is_default", "created_at",
                                     "updated_at"]).copy(
            cursor, ((i, n, z, d, now, now) for i, n, z, d in self.calendars)
        )  # fmt: skip
        table_cls(WorkingHours, ["calendar_id", "weekday", "start", "end"]).copy(
            cursor, iter(self.hours)
        )
        table_cls(Holiday, ["calendar_id", "date", "name"]).copy(cursor, iter(self.holidays))
        columns = [f"{p}_{k}" for p in ("urgent", "high", "medium", "low")
                   for k in ("first_response", "resolution")]  # fmt: skip
        table_cls(
            SlaPolicy,
            ["id", "name", "calendar_id", "group_id", "category_id", "is_active", *columns,
             "created_at", "updated_at"],
        ).copy(
            cursor,
            ((pid, name, cal, group, category, True,
              *(targets[p][i] for p in ("urgent", "high", "medium", "low") for i in (0, 1)),
              now, now)
             for pid, name, cal, group, category, targets in self.policies),
        )  # fmt: skip


@dataclass
class TicketClocks:
    """What portal/tickets/sla.py stores on one ticket, and the escalation markers.

    - both clocks from created_at on the policy's calendar (policy_for);
    - On hold (an open pause since `held`): a line is kept only if it was reached before
      the pause, else it is unknown (None) until the ticket resumes (`_apply` with the open
      pause);
    - Resolved / Closed: the clock stopped at the resolution (sla_paused_at), the due times
      stay what they were (status_changed does not recompute);
    - Cancelled: no SLA (policy and lines cleared), sla_paused_at at the cancellation;
    - markers: a line crossed while its target was still pending (open, not yet met) got
      its marker from the task about half a minute later; lines crossed in the last
      RECENT are left for the task; a breach also marks the at-risk line.
    """

    row: tuple  # sla_policy_id, name, 4 lines, paused_at, 4 markers (COPY order below)
    notices: list  # (kind, target key, label, due us, at us) for the notifications


COLUMNS = [
    "sla_policy_id", "sla_policy_name", "sla_response_due_at", "sla_response_at_risk_at",
    "sla_resolution_due_at", "sla_resolution_at_risk_at", "sla_paused_at",
    "sla_response_at_risk_notified_at", "sla_response_breached_notified_at",
    "sla_resolution_at_risk_notified_at", "sla_resolution_breached_notified_at",
]  # fmt: skip
LABELS = {"response": "First response", "resolution": "Resolution"}


def ticket_clocks(
    levels: ServiceLevels,
    rng: random.Random,
    *,
    group: int,
    category: int,
    priority: str,
    status: str,
    created: int,
    first_response: int | None,
    met: int | None,
    held: int | None,
    ended: int | None,
    now: int,
) -> TicketClocks:
    """`met`: resolved_at (or closed_at); `held`: start of the open On hold pause;
    `ended`: cancellation time. All in microseconds since the epoch."""
    policy = levels.policy_for(group, category)
    clock = policy.clock
    origin = clock.position(created)
    lines = {}
    for key, target in zip(("response", "resolution"), policy.targets[priority], strict=True):
        risk = clock.at(origin + target * 4 // 5)
        due = clock.at(origin + target)
        lines[key] = (risk, due)
    markers = []
    notices = []
    gone = ended if status == "cancelled" else None
    for key in ("response", "resolution"):
        risk, due = lines[key]
        pending_until = first_response if key == "response" else met
        # On hold since `held`: lines after it are unknown (paused), so never crossed.
        stop = held if status == "on_hold" else None
        pending_until = min(x for x in (pending_until, gone, stop, now) if x is not None)
        told = []
        for line_kind, line in (("at_risk", risk), ("breached", due)):
            marker = None
            if line < now - RECENT:
                at = line + rng.randrange(1, WORKER_PERIOD)
                if at < pending_until:
                    marker = at
                    notices.append((line_kind, key, LABELS[key], due, at))
            told.append(marker)
        if told[1] is not None and told[0] is None:
            told[0] = told[1]
        markers += told
    paused = None
    if status == "on_hold":
        paused = held
        # An open pause: lines not reached before it are unknown until the ticket resumes.
        lines = {k: tuple(x if x <= held else None for x in pair) for k, pair in lines.items()}
    elif status in ("resolved", "closed"):
        paused = met
    elif status == "cancelled":
        paused = ended
    if status == "cancelled":
        row = (None, "", None, None, None, None, stamp_us(paused), *map(_stamp_or_none, markers))
        return TicketClocks(row, [])
    (r_risk, r_due), (s_risk, s_due) = lines["response"], lines["resolution"]
    row = (
        policy.id, policy.name, _stamp_or_none(r_due), _stamp_or_none(r_risk),
        _stamp_or_none(s_due), _stamp_or_none(s_risk), _stamp_or_none(paused),
        *map(_stamp_or_none, markers),
    )  # fmt: skip
    return TicketClocks(row, notices)


def _stamp_or_none(us: int | None) -> str | None:
    return None if us is None else stamp_us(us)
