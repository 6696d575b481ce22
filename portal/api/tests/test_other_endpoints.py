"""Notifications (own only), master data (read: everyone; write: admins), users (admins)."""

import pytest

from portal.accounts.models import User
from portal.api import tokens
from portal.api.tests.conftest import ApiClient, is_problem
from portal.catalog.models import Team
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _notify(user, text: str) -> Notification:
    return Notification.objects.create(recipient=user, kind="test", text=text, link="/tickets")


def test_notifications_list_count_and_mark_read_are_the_callers_own(personas, api_for):
    mine = [_notify(personas.requester, f"Note {n}") for n in range(3)]
    theirs = _notify(personas.agent, "Not yours")
    client = api_for(personas.requester)
    assert client.get("/notifications/unread-count").json() == {"unread": 3}
    listed = client.get("/notifications?per_page=2").json()
    assert [n["text"] for n in listed["items"]] == ["Note 2", "Note 1"]
    rest = client.get(f"/notifications?per_page=2&after={listed['next_cursor']}").json()
    assert [n["text"] for n in rest["items"]] == ["Note 0"]

    marked = client.post(f"/notifications/{mine[0].pk}/read")
    assert marked.status_code == 200 and marked.json()["read_at"]
    is_problem(client.post(f"/notifications/{theirs.pk}/read"), 404)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert [n["text"] for n in client.get("/notifications?unread=true").json()["items"]] == [
        "Note 2",
        "Note 1",
    ]
    assert client.post("/notifications/read-all").json() == {"marked": 2}
    assert client.get("/notifications/unread-count").json() == {"unread": 0}
    assert api_for(personas.agent).get("/notifications/unread-count").json() == {"unread": 1}


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_reads_master_data_only_admins_write_it(persona, personas, org, api_for):
    client = api_for(getattr(personas, persona))
    groups = client.get("/catalog/groups").json()
    assert [g["code"] for g in groups] == ["X", "Y"]
    categories = client.get(f"/catalog/categories?group={org.group_x.pk}").json()
    assert [c["name"] for c in categories] == ["Hardware"]
    subs = client.get(f"/catalog/subcategories?category={org.hardware.pk}").json()
    assert [s["name"] for s in subs] == ["Laptop", "Printer"]
    assert [t["name"] for t in client.get("/catalog/teams?active=true").json()] == [
        "Team A",
        "Team B",
    ]
    created = client.post("/catalog/teams", {"name": "Team C", "email": "c@example.com"})
    deactivated = client.post(f"/catalog/teams/{org.team_b.pk}/deactivate")
    if persona == "admin":
        assert created.status_code == 201 and created.json()["name"] == "Team C"
        assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    else:
        is_problem(created, 403)
        is_problem(deactivated, 403)
        assert not Team.objects.filter(name="Team C").exists()
        assert Team.objects.get(pk=org.team_b.pk).is_active


def test_master_data_service_refusals_are_422_field_errors(personas, org, api_for):
    client = api_for(personas.admin)
    body = is_problem(client.post("/catalog/teams", {"name": "team a"}), 422)
    assert body["errors"][0]["field"] == "name"
    body = is_problem(client.post("/catalog/categories", {"name": "X", "group": 999999}), 422)
    assert body["errors"] == [{"field": "group", "message": body["errors"][0]["message"]}]
    is_problem(client.post("/catalog/groups/999999/deactivate"), 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_manage_users(persona, personas, api_for):
    client = api_for(getattr(personas, persona))
    listed = client.get("/users")
    created = client.post(
        "/users",
        {
            "email": "New.Person@Example.com",
            "full_name": "New Person",
            "password": "long enough pass phrase",
        },
    )
    deactivated = client.post(f"/users/{personas.outsider.pk}/deactivate")
    if persona == "admin":
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 6
        assert created.status_code == 201 and created.json()["email"] == "new.person@example.com"
        assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    else:
        for response in (listed, created, deactivated):
            is_problem(response, 403)
        assert not User.objects.filter(email="new.person@example.com").exists()
        assert User.objects.get(pk=personas.outsider.pk).is_active


def test_deactivating_a_user_stops_their_token(personas, api_for):
    secret = tokens.token_create(user=personas.outsider, name="s").secret
    assert ApiClient(secret).get("/tickets").status_code == 200
    api_for(personas.admin).post(f"/users/{personas.outsider.pk}/deactivate")
    is_problem(ApiClient(secret).get("/tickets"), 401)


def test_user_creation_refusals_are_field_errors(personas, api_for):
    client = api_for(personas.admin)
    body = is_problem(
        client.post("/users", {"email": "agent@example.com", "full_name": "Twin"}), 422
    )
    assert body["errors"][0]["field"] == "email"
    body = is_problem(
        client.post("/users", {"email": "x@example.com", "full_name": "X", "password": "123"}),
        422,
    )
    assert {e["field"] for e in body["errors"]} == {"password"}
    is_problem(client.post(f"/users/{personas.admin.pk}/deactivate"), 403)


def test_admins_edit_master_data_others_get_403(personas, org, api_for):
    admin = api_for(personas.admin)
    renamed = admin.patch(f"/catalog/teams/{org.team_b.pk}", {"name": "Team Bravo"})
    assert renamed.status_code == 200 and renamed.json()["email"] == "team-b@example.com"
    group = admin.patch(f"/catalog/groups/{org.group_y.pk}", {"spocs": [personas.lead.pk]})
    assert group.status_code == 200
    assert list(org.group_y.spocs.values_list("pk", flat=True)) == [personas.lead.pk]
    clash = admin.patch(f"/catalog/categories/{org.payroll.pk}", {"name": "x", "group": 999999})
    assert is_problem(clash, 422)["errors"][0]["field"] == "group"
    refused = api_for(personas.spoc).patch(f"/catalog/teams/{org.team_a.pk}", {"name": "Mine"})
    is_problem(refused, 403)
    assert Team.objects.get(pk=org.team_a.pk).name == "Team A"


def test_team_members_read_by_workers_mappings_by_all_written_by_admins(personas, org, api_for):
    requester, admin = api_for(personas.requester), api_for(personas.admin)
    # Members, like the /teams pages, are for the people who work tickets.
    is_problem(requester.get(f"/catalog/teams/{org.team_a.pk}/members"), 403)
    members = api_for(personas.agent).get(f"/catalog/teams/{org.team_a.pk}/members").json()
    assert [(m["email"], m["role"]) for m in members] == [
        ("lead@example.com", "lead"),
        ("agent@example.com", "member"),
    ]
    assert [m["team"] for m in requester.get("/catalog/mappings").json()] == [org.team_a.pk]

    is_problem(
        requester.post(f"/catalog/teams/{org.team_b.pk}/members", {"user": personas.spoc.pk}), 403
    )
    added = admin.post(
        f"/catalog/teams/{org.team_b.pk}/members", {"user": personas.spoc.pk, "role": "lead"}
    )
    assert added.status_code == 201 and added.json()["role"] == "lead"
    twice = admin.post(f"/catalog/teams/{org.team_b.pk}/members", {"user": personas.spoc.pk})
    assert is_problem(twice, 422)["errors"][0]["field"] == "user"
    member_id = added.json()["id"]
    assert (
        admin.request("DELETE", f"/catalog/teams/{org.team_a.pk}/members/{member_id}").status_code
        == 404
    )  # not a member of that team
    assert (
        admin.request("DELETE", f"/catalog/teams/{org.team_b.pk}/members/{member_id}").status_code
        == 204
    )

    route = {"category": org.payroll.pk, "team": org.team_b.pk, "default_priority": "high"}
    is_problem(requester.post("/catalog/mappings", route), 403)
    created = admin.post("/catalog/mappings", route)
    assert created.status_code == 201 and created.json()["subcategory"] is None
    again = admin.post("/catalog/mappings", route)
    assert "already mapped" in is_problem(again, 422)["detail"]
    mapping_id = created.json()["id"]
    assert admin.request("DELETE", f"/catalog/mappings/{mapping_id}").status_code == 204


def test_admins_rename_promote_and_reactivate_users(personas, api_for):
    admin = api_for(personas.admin)
    changed = admin.patch(
        f"/users/{personas.agent.pk}", {"full_name": "Agent  Smith", "is_admin": True}
    )
    assert changed.status_code == 200
    assert (changed.json()["full_name"], changed.json()["is_admin"]) == ("Agent Smith", True)
    is_problem(admin.patch(f"/users/{personas.admin.pk}", {"is_admin": False}), 403)
    admin.post(f"/users/{personas.outsider.pk}/deactivate")
    back = admin.post(f"/users/{personas.outsider.pk}/reactivate")
    assert back.status_code == 200 and back.json()["is_active"] is True
    is_problem(api_for(personas.lead).patch(f"/users/{personas.lead.pk}", {"is_admin": True}), 403)
    assert not User.objects.get(pk=personas.lead.pk).is_staff


def test_admins_move_a_subcategory_and_change_a_members_role_others_get_403(personas, org, api_for):
    admin, lead = api_for(personas.admin), api_for(personas.lead)
    moved = admin.patch(f"/catalog/subcategories/{org.printer.pk}", {"category": org.payroll.pk})
    assert moved.status_code == 200
    assert moved.json()["category"] == org.payroll.pk and moved.json()["name"] == "Printer"
    is_problem(lead.patch(f"/catalog/subcategories/{org.laptop.pk}", {"name": "Mine"}), 403)

    members = admin.get(f"/catalog/teams/{org.team_a.pk}/members").json()
    agent_member = next(m["id"] for m in members if m["user"] == personas.agent.pk)
    url = f"/catalog/teams/{org.team_a.pk}/members/{agent_member}"
    is_problem(lead.patch(url, {"role": "lead"}), 403)
    promoted = admin.patch(url, {"role": "lead"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "lead"
    is_problem(
        admin.patch(f"/catalog/teams/{org.team_b.pk}/members/{agent_member}", {"role": "lead"}), 404
    )


def test_admins_put_admins_on_triage_duty_and_the_last_one_stays_while_a_gap_exists(
    personas, org, api_for
):
    admin = api_for(personas.admin)
    on = admin.patch(f"/users/{personas.admin.pk}", {"on_triage_duty": True})
    assert on.status_code == 200 and on.json()["on_triage_duty"] is True
    # Only admins can be on duty: a field error, nothing written.
    refused = is_problem(admin.patch(f"/users/{personas.agent.pk}", {"on_triage_duty": True}), 422)
    assert refused["errors"][0]["field"] == "on_triage_duty"
    assert not User.objects.get(pk=personas.agent.pk).on_triage_duty
    # Group Y has no SPOC: its tickets can reach only triage, so the last one stays.
    last = is_problem(admin.patch(f"/users/{personas.admin.pk}", {"on_triage_duty": False}), 422)
    assert "the only admin on triage duty" in last["detail"] + str(last.get("errors"))
    assert User.objects.get(pk=personas.admin.pk).on_triage_duty
    assert admin.get(f"/users?q={personas.admin.email}").json()["items"][0]["on_triage_duty"]
