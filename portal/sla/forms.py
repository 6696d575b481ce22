"""Admin forms for calendars, holidays and policies."""

import re
from datetime import timedelta
from typing import Any, cast

from django import forms

from portal.catalog.models import BusinessUnitGroup, Category
from portal.sla.hours import format_day, parse_day
from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy, Weekday, validate_time_zone
from portal.sla.services import Hours


class CalendarForm(forms.Form):
    """Name, zone, default flag, and one line of intervals per weekday."""

    name = forms.CharField(max_length=120)
    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        # Suggestions from a <datalist> in the page (no script needed, CSP-friendly).
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
        help_text="IANA name such as Europe/London, America/New_York or Asia/Kolkata.",
    )
    is_default = forms.BooleanField(
        label="Default calendar",
        required=False,
        help_text="Used when nothing names a calendar. Making another calendar the default "
        "clears this one.",
    )

    def __init__(self, *args, calendar: BusinessCalendar | None = None, **kwargs):
        self.calendar = calendar
        if calendar is not None and "initial" not in kwargs:
            hours: Hours = {}
            for row in calendar.working_hours.all():
                hours.setdefault(row.weekday, []).append((row.start, row.end))
            kwargs["initial"] = {
                "name": calendar.name,
                "time_zone": calendar.time_zone,
                "is_default": calendar.is_default,
                **{f"day_{d}": format_day(hours.get(d, [])) for d in range(7)},
            }
        super().__init__(*args, **kwargs)
        if calendar is not None and calendar.is_default:
            # There is always a default once one exists: it moves, it is never just cleared.
            self.fields["is_default"].disabled = True
            self.fields[
                "is_default"
            ].help_text = "This is the default. To change that, make another calendar the default."
        for value, label in Weekday.choices:
            self.fields[f"day_{value}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text="e.g. 09:00-12:30, 13:30-17:30; blank means closed" if value == 0 else "",
            )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = BusinessCalendar.objects.filter(name__iexact=name)
        if self.calendar is not None:
            clash = clash.exclude(pk=self.calendar.pk)
        if clash.exists():
            raise forms.ValidationError("A calendar with this name already exists.")
        return name

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"].strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        hours: Hours = {}
        for value, _label in Weekday.choices:
            field = f"day_{value}"
            try:
                intervals = parse_day(cleaned.get(field, ""))
            except ValueError as exc:
                self.add_error(field, str(exc))
                continue
            if intervals:
                hours[value] = intervals
        if not hours and not self.errors:
            raise forms.ValidationError("Give at least one day some working hours.")
        cleaned["hours"] = hours
        return cleaned


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, calendar: BusinessCalendar, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.calendar = calendar


class HolidayImportForm(forms.Form):
    text = forms.CharField(
        label="Holiday list",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=100_000,
        help_text="One per line: YYYY-MM-DD and a name, e.g. 2026-12-25 Christmas Day. "
        "Lines starting with # are ignored. Nothing is saved if any line is wrong.",
    )


_DURATION = re.compile(r"^\s*(?:(\d{1,5})\s*h)?\s*(?:(\d{1,5})\s*m(?:in)?)?\s*$", re.I)


class BusinessDurationField(forms.Field):
    """A business-time target in hours and minutes: `4h`, `90m`, `42h 30m`.

    No days: a "working day" is whatever the calendar says (8 h 30 min on 09:00-17:30), so
    people write the hours they mean instead of a unit that changes with the calendar.
    """

    default_error_messages = {
        "invalid": "Write business hours and minutes, like 4h, 90m or 42h 30m.",
        "too_small": "A target must be at least one minute.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value))
        if not match or not any(match.groups()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        hours, minutes = (int(part or 0) for part in match.groups())
        duration = timedelta(hours=hours, minutes=minutes)
        if duration < timedelta(minutes=1):
            raise forms.ValidationError(self.error_messages["too_small"], code="too_small")
        return duration

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            return format_duration(value)
        return value


def format_duration(value: timedelta) -> str:
    """`42h 30m`; the inverse of BusinessDurationField's parsing."""
    hours, minutes = divmod(int(value.total_seconds() // 60), 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return " ".join(part for part in parts if part) or "0m"


TARGET_FIELDS = [
    f"{priority}_{kind}"
    for priority in ("urgent", "high", "medium", "low")
    for kind in ("first_response", "resolution")
]


class PolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["name", "calendar", "group", "category", "is_active", *TARGET_FIELDS]
        field_classes = dict.fromkeys(TARGET_FIELDS, BusinessDurationField)
        help_texts = dict.fromkeys(TARGET_FIELDS, "Business hours, e.g. 4h or 42h 30m.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        group = cast("forms.ModelChoiceField[BusinessUnitGroup]", self.fields["group"])
        category = cast("forms.ModelChoiceField[Category]", self.fields["category"])
        group.queryset = BusinessUnitGroup.objects.order_by("name")
        category.queryset = Category.objects.select_related("group").order_by("group__name", "name")
        # Relabels this form's choices only (an instance attribute shadows the method, which
        # Django calls as `self.label_from_instance(obj)`); mypy refuses assigning to methods.
        category.label_from_instance = lambda c: f"{c.group} / {c}"  # type: ignore[method-assign,assignment]
        group.empty_label = "(no group override)"
        category.empty_label = "(no category override)"

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("group") and cleaned.get("category"):
            raise forms.ValidationError(
                "Override either a group or a category, not both (a category already "
                "belongs to its group)."
            )
        return cleaned
