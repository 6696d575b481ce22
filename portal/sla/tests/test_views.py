"""The /sla admin screens: who may do what (exact statuses), forms, and the page markup."""

import re
from datetime import date

import pytest

from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy
from portal.sla.tests.conftest import targets

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
NON_ADMINS = [name for name in PERSONAS if name != "admin"]

TARGET_FORM = {
    "urgent_first_response": "1h",
    "urgent_resolution": "4h",
    "high_first_response": "4h",
    "high_resolution": "8h 30m",
    "medium_first_response": "8h",
    "medium_resolution": "25h 30m",
    "low_first_response": "16h",
    "low_resolution": "42h 30m",
}


def calendar_form(**overrides) -> dict:
    data = {
        "name": "Delhi office",
        "time_zone": "Asia/Kolkata",
        **{f"day_{d}": "" for d in range(7)},
    }
    data["day_0"] = "09:30-13:00, 14:00-18:00"
    data.update(overrides)
    return data


@pytest.fixture
def world(org, office, default_policy):
    """What the matrix acts on: a calendar with a holiday and a default policy."""
    return {
        "calendar": office,
        "holiday": Holiday.objects.get(calendar=office),
        "policy": default_policy,
    }


def actions(world) -> list[tuple[str, str, str, dict | None, int]]:
    """(name, method, url, data, admin's status) for every view and action."""
    cal, hol, pol = world["calendar"].pk, world["holiday"].pk, world["policy"].pk
    policy_data = {"name": "Renamed", "calendar": cal, "is_active": "on", **TARGET_FORM}
    return [
        ("index", "get", "/sla", None, 200),
        ("calendar create form", "get", "/sla/calendars/new", None, 200),
        ("calendar create", "post", "/sla/calendars/new", calendar_form(), 302),
        ("calendar page", "get", f"/sla/calendars/{cal}", None, 200),
        (
            "calendar save",
            "post",
            f"/sla/calendars/{cal}",
            calendar_form(name="London office", time_zone="Europe/London"),
            302,
        ),
        (
            "holiday add",
            "post",
            f"/sla/calendars/{cal}/holidays",
            {"date": "2027-01-01", "name": "NY"},
            302,
        ),
        ("holiday add by GET", "get", f"/sla/calendars/{cal}/holidays", None, 405),
        (
            "holiday import",
            "post",
            f"/sla/calendars/{cal}/holidays/import",
            {"text": "2027-03-26 GF"},
            302,
        ),
        ("holiday import by GET", "get", f"/sla/calendars/{cal}/holidays/import", None, 405),
        ("holiday delete", "post", f"/sla/calendars/{cal}/holidays/{hol}/delete", {}, 302),
        ("holiday delete by GET", "get", f"/sla/calendars/{cal}/holidays/{hol}/delete", None, 405),
        ("policy create form", "get", "/sla/policies/new", None, 200),
        (
            "policy create",
            "post",
            "/sla/policies/new",
            {**policy_data, "name": "Hardware", "category": world["org"].hardware.pk},
            302,
        ),
        ("policy page", "get", f"/sla/policies/{pol}", None, 200),
        ("policy save", "post", f"/sla/policies/{pol}", policy_data, 302),
        ("unknown calendar", "get", "/sla/calendars/999999", None, 404),
        ("unknown policy", "get", "/sla/policies/999999", None, 404),
    ]


def snapshot() -> tuple:
    """Everything the actions could change, to prove a refused request changed nothing."""
    return (
        list(
            BusinessCalendar.objects.values_list("name", "time_zone", "is_default").order_by("pk")
        ),
        list(Holiday.objects.values_list("date", "name").order_by("pk")),
        list(SlaPolicy.objects.values_list("name", "is_active").order_by("pk")),
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_matrix(persona, personas, org, world, client_for):
    world = {**world, "org": org}
    client = client_for(getattr(personas, persona))
    for name, method, url, data, admin_status in actions(world):
        before = snapshot()
        response = (
            getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        )
        expected = admin_status if persona == "admin" else 403
        assert response.status_code == expected, f"{persona}: {name}"
        if persona != "admin":
            assert snapshot() == before, f"{persona}: {name} changed data"


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    for path in ["/sla", "/sla/calendars/new", f"/sla/policies/{world['policy'].pk}"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login?next=")
    response = client.post(
        f"/sla/calendars/{world['calendar'].pk}/holidays/import", {"text": "2027-01-01 X"}
    )
    assert response.status_code == 302
    assert not Holiday.objects.filter(date=date(2027, 1, 1)).exists()


@pytest.fixture
def admin_client(personas, client_for):
    return client_for(personas.admin)


def test_admin_creates_a_calendar_with_split_days(admin_client, db):
    response = admin_client.post("/sla/calendars/new", calendar_form())
    calendar = BusinessCalendar.objects.get(name="Delhi office")
    assert response["Location"] == f"/sla/calendars/{calendar.pk}"
    assert [str(row) for row in calendar.working_hours.all()] == [
        "Monday 09:30-13:00",
        "Monday 14:00-18:00",
    ]


def test_calendar_form_errors_are_shown_and_nothing_is_saved(admin_client, db):
    response = admin_client.post(
        "/sla/calendars/new",
        calendar_form(time_zone="Asia/Atlantis", day_0="22:00-06:00", day_1="9-5"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "“Asia/Atlantis” is not a known IANA time zone" in html
    assert "Intervals cannot cross midnight" in html
    assert "is not an interval like 09:00-17:30" in html
    assert not BusinessCalendar.objects.exists()


@pytest.mark.parametrize("path", ["/sla/calendars/new", "/sla/policies/new"])
def test_an_empty_form_post_says_what_is_missing_and_saves_nothing(path, admin_client, db):
    # Bound with posted_data(): an empty POST is validated, not shown as a blank form.
    response = admin_client.post(path, {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not BusinessCalendar.objects.exists() and not SlaPolicy.objects.exists()


def test_a_calendar_needs_some_working_hours(admin_client, db):
    response = admin_client.post("/sla/calendars/new", calendar_form(day_0=""))
    assert response.status_code == 400
    assert "Give at least one day some working hours." in response.content.decode()


def test_a_bad_holiday_import_lists_each_line_and_saves_nothing(admin_client, world):
    calendar = world["calendar"]
    response = admin_client.post(
        f"/sla/calendars/{calendar.pk}/holidays/import",
        {"text": "2027-01-01 New Year\n2027-13-01 Nope\n2027-01-01 Twice"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 2: “2027-13-01” is not a date (YYYY-MM-DD)." in html
    assert "Line 3: 2027-01-01 is already on line 1." in html
    assert calendar.holidays.count() == 1


def test_a_duplicate_holiday_gets_a_form_error(admin_client, world):
    calendar = world["calendar"]
    response = admin_client.post(
        f"/sla/calendars/{calendar.pk}/holidays", {"date": "2026-12-25", "name": "Again"}
    )
    assert response.status_code == 400
    assert "This calendar already has a holiday on that date." in response.content.decode()


def test_a_holiday_of_another_calendar_cannot_be_deleted_through_this_one(admin_client, world):
    other = BusinessCalendar.objects.create(name="Other", time_zone="UTC")
    response = admin_client.post(f"/sla/calendars/{other.pk}/holidays/{world['holiday'].pk}/delete")
    assert response.status_code == 404
    assert Holiday.objects.filter(pk=world["holiday"].pk).exists()


def test_policy_form_explains_bad_targets_and_scope(admin_client, org, world):
    response = admin_client.post(
        "/sla/policies/new",
        {
            "name": "Both",
            "calendar": world["calendar"].pk,
            "group": org.group_x.pk,
            "category": org.hardware.pk,
            **TARGET_FORM,
            "urgent_first_response": "soon",
            "urgent_resolution": "0m",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write business hours and minutes, like 4h, 90m or 42h 30m." in html
    assert "A target must be at least one minute." in html
    assert "Override either a group or a category, not both" in html
    assert not SlaPolicy.objects.filter(name="Both").exists()


def test_a_second_active_default_policy_is_refused(admin_client, world):
    response = admin_client.post(
        "/sla/policies/new",
        {
            "name": "Another default",
            "calendar": world["calendar"].pk,
            "is_active": "on",
            **TARGET_FORM,
        },
    )
    assert response.status_code == 400
    assert "There is already an active default policy." in response.content.decode()


def test_policy_targets_round_trip_through_the_form(admin_client, world):
    policy = world["policy"]
    page = admin_client.get(f"/sla/policies/{policy.pk}").content.decode()
    assert 'value="3h"' in page  # high first response of targets(1)
    admin_client.post(
        f"/sla/policies/{policy.pk}",
        {"name": "Standard", "calendar": world["calendar"].pk, "is_active": "on", **TARGET_FORM},
    )
    policy.refresh_from_db()
    assert policy.targets("medium") == SlaPolicy(**_parsed(TARGET_FORM)).targets("medium")


def _parsed(form: dict) -> dict:
    from portal.sla.forms import BusinessDurationField

    field = BusinessDurationField()
    return {key: field.to_python(value) for key, value in form.items()}


def test_pages_keep_to_the_strict_content_security_policy(admin_client, world):
    for path in [
        "/sla",
        "/sla/calendars/new",
        f"/sla/calendars/{world['calendar'].pk}",
        "/sla/policies/new",
        f"/sla/policies/{world['policy'].pk}",
    ]:
        response = admin_client.get(path)
        html = response.content.decode()
        assert response.status_code == 200
        assert "script-src" in response["Content-Security-Policy"]
        assert " style=" not in html and "<style" not in html, path
        inline_scripts = [s for s in re.findall(r"<script\b[^>]*>", html) if "src=" not in s]
        assert inline_scripts == [], path


def test_the_index_lists_calendars_and_policies_in_constant_queries(admin_client, org, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_index() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/sla").status_code == 200
        return len(captured)

    admin_client.get("/sla")  # the session's first save is not part of the page's cost
    few = queries_for_index()
    for n in range(6):
        calendar = BusinessCalendar.objects.create(name=f"Calendar {n}", time_zone="UTC")
        SlaPolicy.objects.create(
            name=f"Policy {n}",
            calendar=calendar,
            category=org.hardware if n == 0 else None,
            group=org.group_y if n == 1 else None,
            is_active=n < 2,
            **targets(n + 1),
        )
    # The page adds one query for calendars (with counts) and one for policies (with their
    # calendar, group and category joined) to the base page's own; none per row.
    assert queries_for_index() == few
    html = admin_client.get("/sla").content.decode()
    assert "Category Group X / Hardware" in html and "Group Group Y" in html


def test_the_administration_menu_shows_the_link_to_admins_only(personas, rf):
    from django.template.loader import render_to_string

    from portal.accounts.roles import user_roles

    for persona, shown in [(personas.admin, True), (personas.agent, False)]:
        request = rf.get("/dashboard")
        request.user = persona
        html = render_to_string(
            "includes/nav_admin.html", {"roles": user_roles(persona), "request": request}
        )
        assert ('href="/sla"' in html) is shown


def test_the_default_calendar_stays_default_until_another_takes_over(admin_client, world):
    calendar = world["calendar"]
    page = admin_client.get(f"/sla/calendars/{calendar.pk}").content.decode()
    assert "make another calendar the default" in page
    admin_client.post(
        f"/sla/calendars/{calendar.pk}",
        calendar_form(name="London office", time_zone="Europe/London"),  # box unticked
    )
    calendar.refresh_from_db()
    assert calendar.is_default
    admin_client.post("/sla/calendars/new", calendar_form(is_default="on"))
    calendar.refresh_from_db()
    assert not calendar.is_default
    assert BusinessCalendar.objects.get(is_default=True).name == "Delhi office"


def test_time_zone_names_are_suggested_without_script(admin_client, db):
    html = admin_client.get("/sla/calendars/new").content.decode()
    assert 'list="time-zones"' in html
    assert '<option value="Asia/Kolkata">' in html
