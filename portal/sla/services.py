"""Writes to calendars, holidays and policies: one function per change, each in a transaction."""

from dataclasses import dataclass
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.sla.business_time import Calendar, CalendarError
from portal.sla.holiday_import import parse_holiday_lines
from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours
from portal.sla.signals import announce_change

Hours = dict[int, list[tuple[time, time]]]


def _check_hours(time_zone: str, hours: Hours) -> None:
    """The same rules business_time applies, so nothing stored is unusable."""
    try:
        Calendar.build(time_zone, hours)
    except CalendarError as exc:
        raise ValidationError(str(exc)) from exc


def _make_default(calendar: BusinessCalendar) -> None:
    # Lock the current default first so two admins switching at once queue up rather than
    # both clearing and one failing on the unique constraint.
    others = BusinessCalendar.objects.select_for_update().filter(is_default=True)
    others.exclude(pk=calendar.pk).update(is_default=False)


def _replace_hours(calendar: BusinessCalendar, hours: Hours) -> None:
    WorkingHours.objects.filter(calendar=calendar).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=weekday, start=start, end=end)
        for weekday, intervals in sorted(hours.items())
        for start, end in intervals
    )


@transaction.atomic
def calendar_create(
    *, name: str, time_zone: str, is_default: bool = False, hours: Hours
) -> BusinessCalendar:
    """A new calendar with its working hours (at least one interval in the week)."""
    _check_hours(time_zone, hours)
    calendar = BusinessCalendar(name=name, time_zone=time_zone, is_default=is_default)
    if is_default:
        _make_default(calendar)  # first, or the one-default constraint check would fail
    calendar.full_clean()
    calendar.save()
    _replace_hours(calendar, hours)
    return calendar


@transaction.atomic
def calendar_update(
    *, calendar: BusinessCalendar, name: str, time_zone: str, is_default: bool, hours: Hours
) -> BusinessCalendar:
    """Rename, move to another zone, make default, and replace the working hours.

    Un-defaulting is done by making another calendar the default, never by clearing the
    flag, so there is always a default once one exists.
    """
    _check_hours(time_zone, hours)
    calendar.name, calendar.time_zone = name, time_zone
    calendar.is_default = calendar.is_default or is_default
    if calendar.is_default:
        _make_default(calendar)
    calendar.full_clean()
    calendar.save(update_fields=["name", "time_zone", "is_default", "updated_at"])
    _replace_hours(calendar, hours)
    announce_change(calendar_ids=[calendar.pk])
    return calendar


@transaction.atomic
def holiday_add(*, calendar: BusinessCalendar, date: date, name: str) -> Holiday:
    holiday = Holiday(calendar=calendar, date=date, name=" ".join(name.split()))
    holiday.full_clean()  # the unique (calendar, date) check gives a form-ready message
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            holiday.save()
    except IntegrityError as exc:  # another admin added the same date since the check
        raise ValidationError("This calendar already has a holiday on that date.") from exc
    announce_change(calendar_ids=[calendar.pk])
    return holiday


@transaction.atomic
def holiday_delete(*, holiday: Holiday) -> None:
    calendar_id = holiday.calendar_id
    holiday.delete()
    announce_change(calendar_ids=[calendar_id])


@dataclass
class ImportResult:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0


@transaction.atomic
def holidays_import(*, calendar: BusinessCalendar, text: str) -> ImportResult:
    """Add the holidays listed in `text` (`YYYY-MM-DD name` per line) to `calendar`.

    All or nothing: any bad line means nothing is written and a ValidationError on `text`
    lists every bad line. Dates already on the calendar take the listed name, so importing
    a list twice is safe.
    """
    parsed = parse_holiday_lines(text)
    if parsed.errors:
        raise ValidationError(
            {"text": [ValidationError(line, code="bad_line") for line in parsed.errors]}
        )
    result = ImportResult()
    existing = {
        holiday.date: holiday
        for holiday in Holiday.objects.select_for_update().filter(
            calendar=calendar, date__in=list(parsed.holidays)
        )
    }
    renamed = []
    new = []
    for day, name in parsed.holidays.items():
        holiday = existing.get(day)
        if holiday is None:
            new.append(Holiday(calendar=calendar, date=day, name=name))
        elif holiday.name != name:
            holiday.name = name
            renamed.append(holiday)
        else:
            result.unchanged += 1
    Holiday.objects.bulk_create(new)
    Holiday.objects.bulk_update(renamed, ["name"])
    result.created, result.renamed = len(new), len(renamed)
    if new:  # a renamed holiday changes no due time
        announce_change(calendar_ids=[calendar.pk])
    return result


@transaction.atomic
def policy_save(*, policy: SlaPolicy) -> SlaPolicy:
    """Create or update a policy after validating it (scope, targets, one per scope).

    The form already ran model validation; running it again here keeps the rule in one
    place for callers that are not forms (demo data, commands).
    """
    policy.full_clean()
    policy.save()
    announce_change(policy_ids=[policy.pk])
    return policy
