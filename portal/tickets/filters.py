"""The one definition of "which tickets, in what order" for the list, CSV export and API.

`TicketFilter(data, user)` validates query parameters (every key and value from an
allow-list; anything else is a form error shown to the person, answered with 400) and
builds the queryset on top of `visible_tickets(user)`, so no surface can widen access.
"""

import copy
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.accounts.roles import Roles, user_roles
from portal.catalog import request_forms
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    FormField,
    Priority,
    Subcategory,
    Team,
)
from portal.catalog.selectors import active_team_choices, attach_master_rows
from portal.lib import keyset
from portal.lib.http import parse_id
from portal.tickets import list_page, routing, search, sla
from portal.tickets.access import reach_of, visible_tickets
from portal.tickets.models import OPEN_STATUSES, Status, Ticket
from portal.tickets.search import apply_search

if TYPE_CHECKING:
    from portal.accounts.types import Visitor

PER_PAGE_CHOICES = (25, 50, 100)
# What a page of tickets holds of its people: what the list and the API show of them
# (`str(user)`: the name, else the address; the API's id, address and name). Their other
# columns (password hash, dates, flags) were a third of the page's columns, each read,
# converted and set on a model instance for every row.
PAGE_PERSON_FIELDS = ("id", "full_name", "email")


@dataclass(frozen=True)
class SavedView:
    label: str
    available: Callable[[Roles], bool]
    condition: Callable[["Visitor", Roles], Q]


def _everything(user: "Visitor", roles: Roles) -> Q:
    return Q()


SAVED_VIEWS: dict[str, SavedView] = {
    "all": SavedView("All I can see", lambda roles: True, _everything),
    "mine": SavedView("My tickets", lambda roles: True, lambda user, roles: Q(requester=user)),
    # Tickets they watch, whatever their role on them: for a requester, those of others
    # they follow (a ticket their own was merged into); "All I can see" holds them too.
    "watching": SavedView(
        "Watching", lambda roles: True, lambda user, roles: reach_of(user).watching_q()
    ),
    "assigned": SavedView(
        "Assigned to me",
        lambda roles: roles.works_tickets,
        lambda user, roles: Q(assignee=user),
    ),
    "team": SavedView(
        "My team's queue",
        lambda roles: roles.is_agent,
        lambda user, roles: Q(team_id__in=sorted(roles.agent_team_ids), status__in=OPEN_STATUSES),
    ),
    "unassigned": SavedView(
        "Unassigned in my groups",
        lambda roles: roles.is_spoc or roles.is_admin,
        lambda user, roles: (
            (Q() if roles.is_admin else Q(group_id__in=sorted(roles.spoc_group_ids)))
            & Q(assignee__isnull=True, status__in=OPEN_STATUSES)
        ),
    ),
}

SAVED_VIEWS["waiting"] = SavedView(
    # Zero in a healthy organisation; the admin dashboard links here (routing.py).
    "Waiting with nobody able to act",
    lambda roles: roles.is_spoc or roles.is_admin,
    lambda user, roles: (
        (Q() if roles.is_admin else Q(group_id__in=sorted(roles.spoc_group_ids)))
        & routing.nobody_able_to_act_q()
    ),
)

SORTS: dict[str, keyset.Sort] = {
    "-updated": keyset.Sort("Recently updated", (("updated_at", True), ("id", True))),
    "updated": keyset.Sort("Least recently updated", (("updated_at", False), ("id", False))),
    # Numbers are handed out in creation order, so the primary key is the creation order.
    "-created": keyset.Sort("Newest", (("id", True),)),
    "created": keyset.Sort("Oldest", (("id", False),)),
    "-priority": keyset.Sort("Highest priority", (("priority_rank", True), ("id", True))),
    # The next SLA due time (first response until answered, then resolution); tickets
    # with none (no SLA, paused, met) sort last via a far-future stand-in, which also keeps
    # the keyset cursor free of NULLs.
    "sla_due": keyset.Sort("SLA due soonest", (("sla_due_sort_at", False), ("id", False))),
}
DEFAULT_SORT = "-updated"


def available_views(roles: Roles) -> list[tuple[str, str]]:
    return [(key, view.label) for key, view in SAVED_VIEWS.items() if view.available(roles)]


class PersonField(forms.CharField):
    """`me`, `none` (where allowed) or an email address."""

    def __init__(self, *, allow_none: bool, **kwargs):
        self.allow_none = allow_none
        super().__init__(required=False, max_length=254, **kwargs)

    def clean(self, value):
        value = (super().clean(value) or "").strip().lower()
        if value in {"", "me"} or (value == "none" and self.allow_none):
            return value
        forms.EmailField().clean(value)
        return value


class ChildChoiceField(forms.ModelChoiceField):
    """A category (or subcategory) filter that outlives a change of its parent.

    When someone picks another group, the list refreshes at the same moment the old
    category is still selected; a well-formed id outside the chosen parent is therefore
    dropped (no filter) rather than reported. Malformed input is still an error.
    """

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if error.code == "invalid_choice" and parse_id(str(value)):
                return None
            raise


NO_TEAM = "none"


class _TeamChoices(forms.models.ModelChoiceIterator):
    """The teams (queried lazily, when the select renders), then "No team"."""

    def __iter__(self):
        yield from super().__iter__()
        yield (NO_TEAM, "No team (unmapped)")

    def __len__(self):
        return super().__len__() + 1


class TeamChoiceField(forms.ModelChoiceField):
    """A team, or `none`: tickets no team is mapped to (they wait for the group's SPOC)."""

    iterator = _TeamChoices

    def to_python(self, value):
        """The team's id (the filter needs only `Q(team=<id>)`), `none`, or None."""
        if value == NO_TEAM:
            return NO_TEAM
        team_id = parse_id(str(value)) if value not in self.empty_values else None
        if team_id is not None and any(pk == team_id for pk, _ in active_team_choices()):
            # An active team, known from the master-data cache (the bulk form's list): no
            # query checks that it exists (a team's queue had one). Other ids are looked
            # up: an inactive team's queue is still listed, a made-up id is refused.
            return team_id
        team = super().to_python(value)
        return team.pk if team is not None else None


class _FieldsCopiedWhereChanged(dict):
    """A form's `base_fields` whose copy for each form (Django deep-copies them all in
    `BaseForm.__init__`: 17 fields, their widgets, choices and querysets, about a twentieth
    of a list page) copies only the fields the form changes per request (`own`) and
    shares the others, which no form changes, between all forms."""

    def __init__(self, fields: dict[str, forms.Field], *, own: tuple[str, ...]) -> None:
        super().__init__(fields)
        self.own = own

    def __deepcopy__(self, memo) -> dict[str, forms.Field]:
        return {
            name: copy.deepcopy(field, memo) if name in self.own else field
            for name, field in self.items()
        }


class TicketFilterForm(forms.Form):
    view = forms.ChoiceField(required=False)
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.MultipleChoiceField(choices=Status.choices, required=False)
    priority = forms.MultipleChoiceField(choices=Priority.choices, required=False)
    sla_state = forms.MultipleChoiceField(
        label="SLA", choices=list(sla.STATE_LABELS.items()), required=False
    )
    group = forms.ModelChoiceField(
        BusinessUnitGroup.objects.all(), required=False, empty_label="Any group"
    )
    # Narrowed to the chosen group / category in __init__ (never every category of the
    # organisation in one select); the catalog's htmx partials refresh them on change.
    category = ChildChoiceField(Category.objects.none(), required=False, empty_label="Any")
    subcategory = ChildChoiceField(Subcategory.objects.none(), required=False, empty_label="Any")
    team = TeamChoiceField(Team.objects.all(), required=False, empty_label="Any team")
    assignee = PersonField(allow_none=True, help_text="Email, “me” or “none”.")
    requester = PersonField(allow_none=False, help_text="Email or “me”.")
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    updated_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    updated_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        choices=[(key, sort.label) for key, sort in SORTS.items()], required=False
    )
    per_page = forms.TypedChoiceField(
        label="Per page",
        choices=[(n, n) for n in PER_PAGE_CHOICES],
        coerce=int,
        required=False,
        # Returned as it is (an int here); django-stubs allows only str | None.
        empty_value=PER_PAGE_CHOICES[0],  # type: ignore[arg-type]
    )
    # `<field code>:<option code>` of a choice field of the chosen category's form (its
    # subcategory's too): the choices are the allow-list, so it needs a category.
    answer = forms.ChoiceField(
        label="Answer", required=False, choices=[], help_text="Choose a category first."
    )
    after = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    # The fields __init__ changes (choices, querysets, help text); the others are shared.
    # The model selects (group, team) are copied too: a shared queryset is one object
    # between requests, which would keep any rows once evaluated on it for the process.
    OWN_FIELDS = ("view", "group", "category", "subcategory", "team", "answer")

    def __init__(self, data, *, roles: Roles, **kwargs):
        super().__init__(data, **kwargs)
        self.answer_kinds: dict[str, str] = {}
        cast(forms.ChoiceField, self.fields["view"]).choices = available_views(roles)
        # The ids as sent (valid or not): they decide which options the selects offer.
        self.group_id = group_id = parse_id((data or {}).get("group"))
        self.category_id = category_id = parse_id((data or {}).get("category"))
        if group_id:
            category = cast(ChildChoiceField, self.fields["category"])
            category.queryset = Category.objects.filter(group_id=group_id)
        if group_id and category_id:
            subcategory = cast(ChildChoiceField, self.fields["subcategory"])
            subcategory.queryset = Subcategory.objects.filter(
                category_id=category_id, category__group_id=group_id
            )
            self._answer_choices(category_id, parse_id((data or {}).get("subcategory")))

    def _answer_choices(self, category_id: int, subcategory_id: int | None) -> None:
        """One query, only when a category is chosen: its form's choice fields' options."""
        choices, self.answer_kinds = [("", "Any")], {}
        for field in request_forms.form_for(category_id, subcategory_id).fields:
            if field.field_type in (FormField.Type.CHOICE, FormField.Type.MULTI_CHOICE):
                self.answer_kinds[field.key] = field.field_type
                choices += [
                    (f"{field.key}:{o['code']}", f"{field.label}: {o['label']}")
                    for o in field.options
                ]
        answer = cast(forms.ChoiceField, self.fields["answer"])
        answer.choices = choices
        answer.help_text = "" if len(choices) > 1 else "No choice fields here."

    def options_key(self, name: str) -> str | None:
        """What the options of filter `name` depend on besides master data ("" for nothing),
        for the list's cache of filter HTML; None when they are this request's own: the
        views offered to this person, a chosen category's form fields. A chosen group's
        categories (and category's subcategories) are keyed by them once found valid, so
        made-up ids add no cache entries."""
        if name in ("view", "after") or (name == "answer" and self.group_id and self.category_id):
            return None
        data = getattr(self, "cleaned_data", {})
        if name == "category" and self.group_id:
            return str(self.group_id) if data.get("group") else None
        if name == "subcategory" and self.group_id and self.category_id:
            both = data.get("group") and data.get("category")
            return f"{self.group_id}:{self.category_id}" if both else None
        return ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for field in ("created", "updated"):
            start, end = data.get(f"{field}_from"), data.get(f"{field}_to")
            if start and end and start > end:
                self.add_error(f"{field}_to", "The end date is before the start date.")
        return data


TicketFilterForm.base_fields = _FieldsCopiedWhereChanged(
    TicketFilterForm.base_fields, own=TicketFilterForm.OWN_FIELDS
)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def range_start(value: dt.date) -> dt.datetime:
    """A date range's first day as the time it starts (inclusive); a time as it is (the
    compiled list's value, list_page.py)."""
    return value if isinstance(value, dt.datetime) else _day_start(value)


def range_end(value: dt.date) -> dt.datetime:
    """A date range's last day as the time the next one starts (exclusive: the day is
    inclusive); a time as it is (the compiled list's value, list_page.py)."""
    return value if isinstance(value, dt.datetime) else _day_start(value + dt.timedelta(days=1))


@functools.cache
def _page_columns() -> tuple[str, ...]:
    """Every column of the ticket, and its people's `PAGE_PERSON_FIELDS`."""
    return (
        *(field.name for field in Ticket._meta.concrete_fields),
        *(f"{who}__{name}" for who in ("requester", "assignee") for name in PAGE_PERSON_FIELDS),
    )


class TicketFilter:
    """Validated list parameters → querysets and pages, always inside the user's access."""

    def __init__(self, data: Any, user: "Visitor") -> None:
        self.user = user
        self.roles = user_roles(user)
        self.form = TicketFilterForm(data, roles=self.roles)

    def is_valid(self) -> bool:
        return self.form.is_valid()

    @property
    def view(self) -> str:
        return self.form.cleaned_data.get("view") or "all"

    @property
    def sort_key(self) -> str:
        return self.form.cleaned_data.get("sort") or DEFAULT_SORT

    @property
    def per_page(self) -> int:
        return self.form.cleaned_data.get("per_page") or PER_PAGE_CHOICES[0]

    def queryset(self, *, search: bool = True) -> QuerySet:
        """The filtered tickets, unordered and unevaluated (`search=False`: without the
        search text, which `page()` applies per page)."""
        return filtered_tickets(
            self.form.cleaned_data, self.user, self.roles, self.form.answer_kinds, search=search
        )

    def ordered(self) -> QuerySet:
        return self.queryset().order_by(*SORTS[self.sort_key].order_by())

    def page(self):
        """(tickets with their related rows, next cursor); raises keyset.BadCursor.

        Through a statement compiled once per shape (portal/tickets/list_page.py) where
        there is one, else through the ORM; both read the same rows."""
        sort, cursor = SORTS[self.sort_key], self.form.cleaned_data.get("after") or None
        data = self.form.cleaned_data
        # The date ranges as the times they start and end: the compiled statement's values.
        ranges = {
            name: (range_end if name.endswith("_to") else range_start)(data[name])
            for name in list_page.DATE_RANGES
            if data.get(name)
        }
        rows = list_page.page(
            {**data, **ranges},
            self.user,
            self.roles,
            sort_key=self.sort_key,
            sort=sort,
            per_page=self.per_page,
            cursor=keyset.decode(cursor, sort) if cursor else None,
            filtered=filtered_tickets,
        )
        if rows is not None:
            tickets = rows[: self.per_page]
            more = len(rows) > self.per_page
            next_cursor = keyset.cursor_for(tickets[-1], sort) if more and tickets else None
            attach_master_rows(tickets)
            return tickets, next_cursor
        return self.orm_page()

    def orm_page(self):
        """`page()` through the ORM: the shapes not compiled, and what tests compare with."""
        sort, cursor = SORTS[self.sort_key], self.form.cleaned_data.get("after") or None
        queryset = self.queryset(search=False)
        if text := self.form.cleaned_data.get("q"):
            after = keyset.after_condition(sort, keyset.decode(cursor, sort)) if cursor else None
            ids = search.page_ids(
                queryset,
                self.user,
                text,
                order_by=sort.order_by(),
                after=after,
                limit=self.per_page + 1,
            )
            queryset = queryset.filter(pk__in=ids)
        # The people joined; group, category, subcategory and team from the cache.
        tickets, next_cursor = keyset.page(
            queryset.select_related("requester", "assignee").only(*_page_columns()),
            sort,
            cursor,
            self.per_page,
        )
        attach_master_rows(tickets)
        return tickets, next_cursor


def filtered_tickets(
    data: dict[str, Any],
    user: "Visitor",
    roles: Roles,
    answer_kinds: dict[str, str],
    *,
    search: bool = True,
) -> QuerySet:
    """`TicketFilter.queryset` of a form's cleaned `data`, for `user` with `roles` (what
    the list's compiled page also builds for a stand-in user: portal/tickets/list_page.py)."""
    view = data.get("view") or "all"
    queryset = visible_tickets(user).filter(SAVED_VIEWS[view].condition(user, roles))
    conditions = Q()
    if data.get("status"):
        conditions &= Q(status__in=data["status"])
    if data.get("priority"):
        conditions &= Q(priority__in=data["priority"])
    for name in ("group", "category", "subcategory", "team"):
        if data.get(name) == NO_TEAM:
            conditions &= Q(team__isnull=True)
        elif data.get(name) is not None:
            conditions &= Q(**{name: data[name]})
    if data.get("answer"):
        conditions &= _answer(data["answer"], answer_kinds)
    conditions &= _person(user, "assignee", data.get("assignee"))
    conditions &= _person(user, "requester", data.get("requester"))
    for field in ("created", "updated"):
        if data.get(f"{field}_from"):
            conditions &= Q(**{f"{field}_at__gte": range_start(data[f"{field}_from"])})
        if data.get(f"{field}_to"):
            conditions &= Q(**{f"{field}_at__lt": range_end(data[f"{field}_to"])})
    queryset = queryset.filter(conditions)
    if search and data.get("q"):
        queryset = apply_search(queryset, user, data["q"])
    if data.get("sla_state"):
        # An SQL expression on the stored due times: filtering stays in the same single
        # query (no extra query, no per-row Python).
        queryset = sla.annotate_state(queryset).filter(sla_state__in=data["sla_state"])
    if (data.get("sort") or DEFAULT_SORT) == "sla_due":
        # Only open tickets have a due time ahead; the sort walks the partial index of
        # open tickets by `sla_due_sort_at` (1M tickets, admin: 216 ms sorting them).
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    return queryset


def _answer(value: str, answer_kinds: dict[str, str]) -> Q:
    """`key:option` from the form's allow-list (codes are [a-z0-9_], so the lookup
    path and the quoted code are safe). One option of a several-choice field matches
    the list's JSON text with the code in quotes, which both databases can do."""
    key, option = value.split(":", 1)
    if answer_kinds[key] == FormField.Type.MULTI_CHOICE:
        return Q(**{f"form_values__{key}__icontains": f'"{option}"'})
    return Q(**{f"form_values__{key}": option})


def _person(user: "Visitor", field: str, value: str | None) -> Q:
    if not value:
        return Q()
    if value == "me":
        return Q(**{field: user})
    if value == "none":
        return Q(**{f"{field}__isnull": True})
    return Q(**{f"{field}__email": value})
