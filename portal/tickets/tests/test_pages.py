"""Raising, editing and working tickets through the pages."""

import uuid

import pytest

from portal.tickets import services
from portal.tickets.models import Comment, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _new_ticket_data(org, **extra):
    data = {
        "title": "Screen flickers",
        "description": "Since **Monday**.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.laptop.pk,
        "priority": "",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def test_requester_raises_a_ticket_and_lands_on_its_page(personas, org, client_for):
    response = client_for(personas.requester).post("/tickets/new", _new_ticket_data(org))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}"
    assert (ticket.requester, ticket.team) == (personas.requester, org.team_a)


def test_submitting_the_new_ticket_form_twice_creates_one_ticket(personas, org, client_for):
    client = client_for(personas.requester)
    data = _new_ticket_data(org)
    first = client.post("/tickets/new", data)
    second = client.post("/tickets/new", data)
    assert Ticket.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_validation_error_keeps_everything_the_person_typed(personas, org, client_for):
    data = _new_ticket_data(org, title="", description="My long explanation")
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "My long explanation" in html
    assert f'value="{data["idempotency_key"]}"' in html
    assert f'<option value="{org.hardware.pk}" selected>' in html
    assert not Ticket.objects.exists()


def test_a_category_from_another_group_is_a_form_error_not_a_500(personas, org, client_for):
    data = _new_ticket_data(org, group=org.group_y.pk)
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_garbage_ids_are_form_errors(personas, org, client_for):
    data = _new_ticket_data(org, group="abc", category="-1", idempotency_key="nope")
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 400


def test_stale_edit_gets_409_showing_what_changed_and_keeping_the_input(
    ticket, personas, org, client_for
):
    seen = ticket.version
    services.ticket_update(
        actor=personas.lead, ticket=ticket, expected_version=seen, title="Lead's title"
    )
    response = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/edit",
        {
            "version": seen,
            "title": "Agent's title",
            "description": "Agent's text",
            "priority": "low",
            "group": org.group_x.pk,
            "category": org.hardware.pk,
            "subcategory": org.laptop.pk,
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html
    assert "Lead&#x27;s title" in html  # what changed
    assert "Agent&#x27;s title" in html  # what they typed, kept
    assert f'name="version" value="{seen + 1}"' in html
    ticket.refresh_from_db()
    assert ticket.title == "Lead's title"


def test_forbidden_status_change_shows_the_reason_with_403(ticket, personas, client_for):
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/status", {"status": "resolved", "version": ticket.version}
    )
    assert response.status_code == 403
    assert "You cannot change" in response.content.decode()


def test_stale_status_form_is_a_409(ticket, personas, client_for):
    seen = ticket.version
    services.ticket_change_status(actor=personas.lead, ticket=ticket, status="on_hold")
    response = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/status", {"status": "resolved", "version": seen}
    )
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.status == "on_hold"


def test_empty_comment_is_a_400_and_nothing_is_saved(ticket, personas, client_for):
    response = client_for(personas.agent).post(f"/tickets/{ticket.number}/comments", {"body": ""})
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_detail_shows_only_the_actions_the_viewer_may_take(ticket, personas, client_for):
    requester_html = client_for(personas.requester).get(f"/tickets/{ticket.number}").content
    lead_html = client_for(personas.lead).get(f"/tickets/{ticket.number}").content
    assert b"Take it" not in requester_html
    assert b"Assign to" not in requester_html
    assert b"Internal (only" not in requester_html
    assert b'<option value="cancelled">Cancel my ticket</option>' in requester_html
    assert b"Take it" in lead_html
    assert b"Assign to" in lead_html


def test_ticket_pages_stay_out_of_the_htmx_history_cache(ticket, personas, client_for):
    html = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    assert 'hx-history="false"' in html
    assert "no-store" in client_for(personas.requester).get(
        f"/tickets/{ticket.number}"
    ).headers.get("Cache-Control", "")


def test_bulk_take_goes_through_the_same_checks_per_ticket(
    raise_ticket, personas, client_for, group_y_ticket
):
    mine, theirs = raise_ticket(), raise_ticket()
    response = client_for(personas.lead).post(
        "/tickets/bulk",
        {"numbers": [mine.number, theirs.number, group_y_ticket.number], "action": "take"},
    )
    assert response.status_code == 302
    assigned = dict(Ticket.objects.values_list("pk", "assignee"))
    assert assigned[mine.pk] == personas.lead.pk
    assert assigned[theirs.pk] == personas.lead.pk
    # Outside the lead's scope: not found, untouched.
    assert assigned[group_y_ticket.pk] is None


def test_bulk_move_without_a_reason_changes_nothing(ticket, personas, org, client_for):
    response = client_for(personas.agent).post(
        "/tickets/bulk", {"numbers": [ticket.number], "action": "team", "team": org.team_b.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.team == org.team_a


@pytest.mark.parametrize("field", ["group", "category", "subcategory"])
def test_ids_beyond_any_database_integer_are_form_errors_not_500s(field, personas, org, client_for):
    data = _new_ticket_data(org, **{field: "9" * 25})
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_a_move_without_a_team_is_a_400_that_keeps_the_reason_typed(ticket, personas, client_for):
    response = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/team", {"version": ticket.version, "reason": "Wrong queue"}
    )
    assert response.status_code == 400
    assert 'value="Wrong queue"' in response.content.decode()


def test_a_resolved_ticket_tells_its_requester_how_long_they_may_reopen(
    ticket, personas, client_for
):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status="resolved")
    html = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    assert "You can reopen it until" in html
    assert "Reopen: it is not fixed" in html
    agent_html = client_for(personas.agent).get(f"/tickets/{ticket.number}").content.decode()
    assert "You can reopen it until" not in agent_html


@pytest.mark.parametrize("number", ["mine-of-another", "TKT-999999"])
def test_a_ticket_you_may_not_see_shows_the_portals_own_404_page_even_in_development(
    number, other_ticket, personas, client_for, settings
):
    """Not Django's technical 404 (which lists every URL pattern), whatever DEBUG says."""
    settings.DEBUG = True
    path = other_ticket.get_absolute_url() if number == "mine-of-another" else f"/tickets/{number}"
    response = client_for(personas.requester).get(path)
    assert response.status_code == 404
    assert "errors/404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "URLconf" not in html and "api/v1/" not in html
    assert other_ticket.title not in html


def test_requesters_list_titles_link_to_their_tickets(ticket, personas, client_for):
    html = client_for(personas.requester).get("/tickets", {"view": "mine"}).content.decode()
    # A tap target; keyboard users reach the same page through the number's link.
    assert f'<a href="{ticket.get_absolute_url()}" tabindex="-1">{ticket.title}</a>' in html
    assert f'<a href="{ticket.get_absolute_url()}">{ticket.number}</a>' in html


@pytest.mark.parametrize("version", ["²", "٥", "+1", "99999999999999999999"])
def test_taking_a_ticket_with_a_garbled_version_takes_it_without_a_version_check(
    version, personas, ticket, client_for
):
    # "²" passes str.isdigit() and then fails int(): the take button's version once became
    # a 500. Every id and version from a form is parsed by portal.lib.http.parse_id.
    response = client_for(personas.lead).post(
        f"/tickets/{ticket.number}/take", {"version": version}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == personas.lead


def test_an_empty_post_of_the_ticket_forms_says_what_is_missing(personas, ticket, client_for):
    # Bound with posted_data(): an empty POST is validated, not shown as a blank form.
    new = client_for(personas.requester).post("/tickets/new", {})
    edit = client_for(personas.lead).post(f"/tickets/{ticket.number}/edit", {})
    for response in (new, edit):
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
    assert Ticket.objects.count() == 1


def _select(html, select_id):
    """The options of one select on the page, as (value, label, selected)."""
    import re

    body = re.search(rf'<select [^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', body)


def test_the_assign_and_move_lists_follow_renamed_people_and_teams(
    ticket, personas, org, client_for
):
    client = client_for(personas.lead)
    page = client.get(f"/tickets/{ticket.number}").content.decode()
    teams = _select(page, "id_team")
    # The other active teams (the move list, from the master-data cache), not its own.
    assert teams == [("", " selected", "Choose a team"), (str(org.team_b.pk), "", "Team B")]
    members = _select(page, "id_assign_assignee")
    assert members == [
        ("", "", "Nobody"),
        (str(personas.agent.pk), " selected", "Agent Persona"),  # its assignee
        (str(personas.lead.pk), "", "Lead Persona"),
    ]

    org.team_b.name = "Team Bee"
    org.team_b.save()
    personas.lead.full_name = "Lena Renamed"
    personas.lead.save()
    page = client.get(f"/tickets/{ticket.number}").content.decode()
    assert (str(org.team_b.pk), "", "Team Bee") in _select(page, "id_team")
    assert (str(personas.lead.pk), "", "Lena Renamed") in _select(page, "id_assign_assignee")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_comment_and_history_times_read_as_the_date_filter_writes_them(zone):
    import datetime as dt
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import timezone

    from portal.lib.dates import ShortDates
    from portal.tickets.views import _stamp

    moments = [dt.datetime(2026, month, day, 23, 5, 7, 12, tzinfo=dt.UTC) for month, day in
               [(1, 1), (3, 29), (11, 30), (12, 31)]]  # fmt: skip
    moments.append(dt.datetime(999, 5, 6, 7, 8, tzinfo=dt.UTC))
    template = Template("{{ at|date:'c' }}|{{ at|date:'j M Y H:i' }}")
    with timezone.override(zone):
        rows = [SimpleNamespace(created_at=moment) for moment in moments]
        _stamp(rows, ShortDates())
        for row in rows:
            expected = template.render(Context({"at": row.created_at}))
            assert f"{row.created_iso}|{row.created_label}" == expected
