"""The /analytics parameters: a period and filters, each from an allow-list.

Period semantics (see docs/analytics.md): "last N days" is N whole calendar days ending
today, in the portal's time zone (TIME_ZONE); a custom period runs from the start of
`from` to the end of `to`, both included. Either way the period is the half-open interval
[start, end) of aware datetimes, so a ticket created at exactly midnight belongs to one day.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.utils import timezone

from portal.catalog.models import BusinessUnitGroup, Category, Priority, Team

PRESETS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PERIOD = "30"
MAX_DAYS = 366
EARLIEST = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date  # included

    @property
    def start(self) -> dt.datetime:
        return day_start(self.first_day)

    @property
    def end(self) -> dt.datetime:
        return day_start(self.last_day + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AnalyticsForm(forms.Form):
    """Validates the query string; unknown keys are ignored, known ones must be valid."""

    period = forms.ChoiceField(
        choices=[
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
            ("90", "Last 90 days"),
            ("custom", "Custom"),
        ],  # fmt: skip
        required=False,
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group = forms.ModelChoiceField(
        BusinessUnitGroup.objects.all(), required=False, empty_label="Any"
    )
    category = forms.ModelChoiceField(
        Category.objects.select_related("group").order_by("group__name", "name"),
        required=False,
        empty_label="Any",
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="Any")
    priority = forms.ChoiceField(choices=[("", "Any"), *Priority.choices], required=False)

    def __init__(self, data, **kwargs):
        # The query string names the dates `from` and `to`; Python cannot have a field
        # called `from`, hence the prefix-free renaming here.
        data = data.copy()
        for short, name in (("from", "date_from"), ("to", "date_to")):
            if short in data and name not in data:
                data[name] = data[short]
        # The selector shows the period the figures use: without a choice that is the
        # default (or "Custom" when dates were given), not the list's first option.
        if not data.get("period"):
            custom = data.get("date_from") or data.get("date_to")
            data["period"] = "custom" if custom else DEFAULT_PERIOD
        super().__init__(data, **kwargs)
        # Category names repeat across groups: show which group each belongs to.
        self.fields["category"].label_from_instance = lambda c: f"{c.group.name} / {c.name}"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        custom = data.get("period") == "custom" or (not data.get("period") and (start or end))
        today = timezone.localdate()
        if custom and not self.errors:
            if not start or not end:
                raise forms.ValidationError("A custom period needs both a from and a to date.")
            if start < EARLIEST:
                self.add_error("date_from", f"Choose a date from {EARLIEST:%d %b %Y} on.")
            elif start > end:
                self.add_error("date_to", "The end date is before the start date.")
            elif end > today:
                self.add_error("date_to", "The end date is in the future.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("date_to", f"A period can be at most {MAX_DAYS} days long.")
            else:
                data["period"] = "custom"
        category, group = data.get("category"), data.get("group")
        if category is not None and group is not None and category.group_id != group.pk:
            self.add_error("category", f"{category.name} is not a category of {group.name}.")
        return data

    def get_period(self) -> Period:
        data = self.cleaned_data
        if data.get("period") == "custom":
            return Period(data["date_from"], data["date_to"])
        days = PRESETS[data.get("period") or DEFAULT_PERIOD]
        today = timezone.localdate()
        return Period(today - dt.timedelta(days=days - 1), today)

    def condition(self) -> Q:
        """The filters as a Q on Ticket (always ANDed with the user's visible tickets)."""
        data = self.cleaned_data
        q = Q()
        for name in ("group", "category", "team"):
            if data.get(name) is not None:
                q &= Q(**{name: data[name]})
        if data.get("priority"):
            q &= Q(priority=data["priority"])
        return q

    def query(self) -> str:
        """The validated parameters as a query string, for links and CSV downloads."""
        data = self.cleaned_data
        pairs = [("period", data.get("period") or DEFAULT_PERIOD)]
        if pairs[0][1] == "custom":
            pairs += [("from", data["date_from"].isoformat()), ("to", data["date_to"].isoformat())]
        for name in ("group", "category", "team"):
            if data.get(name) is not None:
                pairs.append((name, str(data[name].pk)))
        if data.get("priority"):
            pairs.append(("priority", data["priority"]))
        return urlencode(pairs)

    def error_text(self) -> str:
        parts = []
        for field, errors in self.errors.items():
            known = self.fields.get(field)
            prefix = f"{known.label or field.title()}: " if known is not None else ""
            parts.extend(f"{prefix}{error}" for error in errors)
        return " ".join(parts)
