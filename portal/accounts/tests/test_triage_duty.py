"""Admins on triage duty: set in user management, never emptied while a routing gap exists."""

import pytest

from portal.accounts.models import User

pytestmark = pytest.mark.django_db


def edit(client, user, *, on_duty: bool, admin: bool = True, active: bool = True):
    data = {"full_name": user.full_name}
    data |= {"is_active": "on"} if active else {}
    data |= {"is_staff": "on"} if admin else {}
    data |= {"on_triage_duty": "on"} if on_duty else {}
    return client.post(f"/settings/users/{user.pk}", data)


def on_duty(user) -> bool:
    user.refresh_from_db()
    return user.on_triage_duty


# persona → status of putting another admin on triage duty.
EXPECTED = {
    "admin": 302,
    **{p: 403 for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_putting_an_admin_on_triage_duty_permission_matrix(client_for, personas, persona):
    target = User.objects.create_user("ops@example.com", "x", full_name="Ops", is_staff=True)
    client = client_for(None if persona == "anonymous" else getattr(personas, persona))
    assert edit(client, target, on_duty=True).status_code == EXPECTED[persona]
    assert on_duty(target) is (persona == "admin")


def test_only_admins_can_be_on_triage_duty(client_for, personas):
    response = edit(client_for(personas.admin), personas.outsider, on_duty=True, admin=False)
    assert response.status_code == 400
    assert "Only admins can be on triage duty." in response.content.decode()
    assert not on_duty(personas.outsider)


def test_the_last_admin_on_duty_stays_while_a_group_has_no_spoc(client_for, personas, org):
    # Group Y has no SPOC (and team B nobody in it): its tickets can only reach triage.
    client = client_for(personas.admin)
    assert edit(client, personas.admin, on_duty=True).status_code == 302
    response = edit(client, personas.admin, on_duty=False)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Admin Persona is the only admin on triage duty" in page
    assert "Put another admin on triage duty first" in page
    assert on_duty(personas.admin)


def test_the_last_admin_on_duty_cannot_leave_by_losing_admin_rights_or_the_account(
    client_for, personas, org
):
    ops = User.objects.create_user("ops@example.com", "x", full_name="Ops", is_staff=True)
    client = client_for(personas.admin)
    edit(client, ops, on_duty=True)
    assert edit(client, ops, on_duty=False, admin=False).status_code == 400  # not an admin
    assert edit(client, ops, on_duty=True, active=False).status_code == 400
    ops.refresh_from_db()
    assert (ops.is_staff, ops.is_active, ops.on_triage_duty) == (True, True, True)


def test_with_another_admin_on_duty_one_may_leave(client_for, personas, org):
    ops = User.objects.create_user("ops@example.com", "x", full_name="Ops", is_staff=True)
    client = client_for(personas.admin)
    edit(client, ops, on_duty=True)
    edit(client, personas.admin, on_duty=True)
    assert edit(client, ops, on_duty=False).status_code == 302
    assert not on_duty(ops)


def test_without_gaps_triage_duty_may_be_emptied(client_for, personas, org):
    from portal.catalog.models import ClassificationMapping, TeamMember

    org.group_y.spocs.add(personas.spoc)
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)
    ClassificationMapping.objects.create(category=org.payroll, team=org.team_b)
    client = client_for(personas.admin)
    edit(client, personas.admin, on_duty=True)
    assert edit(client, personas.admin, on_duty=False).status_code == 302
    assert not on_duty(personas.admin)


def test_the_user_list_says_who_is_on_triage_duty(client_for, personas):
    personas.admin.on_triage_duty = True
    personas.admin.save(update_fields=["on_triage_duty"])
    page = client_for(personas.admin).get("/settings/users").content.decode()
    assert "Admin · on triage duty" in page
