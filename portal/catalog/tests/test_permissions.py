"""Who may open and use each catalogue screen: every persona × every action, exact status.

Anonymous visitors are sent to sign in (302) by LoginRequiredMiddleware everywhere.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
    TeamMember,
)
from portal.catalog.tests.helpers import snapshot
from portal.catalog.tests.workbooks import xlsx

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _admin_only(admin_status: int) -> dict[str, int]:
    return {name: (admin_status if name == "admin" else 403) for name in PERSONAS}


def _gets(org):
    """(method, url, data, expected status per persona)."""
    team = org.team_a.pk
    cases = [
        ("get", "/masters", {}, _admin_only(200)),
        ("get", "/masters/coverage", {}, _admin_only(200)),
        ("get", "/masters/import", {}, _admin_only(200)),
        ("get", "/masters/export", {}, _admin_only(200)),
        (
            "get",
            "/teams",
            {},
            {
                "requester": 403,
                "agent": 200,
                "lead": 200,
                "spoc": 200,
                "admin": 200,
                "outsider": 403,
            },
        ),
        (
            "get",
            f"/teams/{team}",
            {},
            {
                "requester": 403,
                "agent": 200,
                "lead": 200,
                "spoc": 200,
                "admin": 200,
                "outsider": 403,
            },
        ),
        (
            "get",
            f"/catalog/options/categories?group={org.group_x.pk}",
            {},
            dict.fromkeys(PERSONAS, 200),
        ),
        (
            "get",
            f"/catalog/options/subcategories?category={org.hardware.pk}",
            {},
            dict.fromkeys(PERSONAS, 200),
        ),
    ]
    for kind, obj in [
        ("groups", org.group_x),
        ("categories", org.hardware),
        ("subcategories", org.laptop),
        ("teams", org.team_a),
        ("members", org.team_a.members.first()),
        ("mappings", org.mapping_hardware),
    ]:
        cases += [
            ("get", f"/masters/{kind}", {}, _admin_only(200)),
            ("get", f"/masters/{kind}/new", {}, _admin_only(200)),
            ("get", f"/masters/{kind}/{obj.pk}", {}, _admin_only(200)),
        ]
    return cases


def test_every_persona_gets_the_expected_status_on_every_screen(org, personas, client_for):
    for method, url, data, expected in _gets(org):
        for name in PERSONAS:
            response = getattr(client_for(getattr(personas, name)), method)(url, data)
            assert response.status_code == expected[name], (name, method, url)


def test_anonymous_visitors_are_sent_to_sign_in(org, client_for):
    for _, url, _, _ in _gets(org):
        response = client_for(None).get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login?next=")


def _posts(org, personas):
    """Every state-changing action: (url, data, status for an admin). Others get 403.

    Ordered so each action finds what it needs: edits before deactivation, deletes last
    and on items made for the purpose (one delete is refused: the item is in use).
    """
    spare_group = BusinessUnitGroup.objects.create(name="Spare", code="SPARE")
    spare_category = Category.objects.create(group=org.group_y, name="Spare category")
    spare_sub = Subcategory.objects.create(category=org.payroll, name="Spare sub")
    spare_team = Team.objects.create(name="Spare team")
    spare_member = TeamMember.objects.create(team=org.team_b, user=personas.requester)
    spare_mapping = ClassificationMapping.objects.create(category=org.payroll, team=org.team_b)
    member = org.team_a.members.get(user=personas.agent)
    mapping = org.mapping_hardware
    upload = SimpleUploadedFile("c.xlsx", xlsx([["Group X", "Hardware", "Dock", "Team A"]]))
    posts = [
        # create
        ("/masters/groups/new", {"name": "Group Z", "code": "Z", "spocs": ""}, 302),
        ("/masters/categories/new", {"group": org.group_y.pk, "name": "Expenses"}, 302),
        ("/masters/subcategories/new", {"category": org.payroll.pk, "name": "Payslip"}, 302),
        ("/masters/teams/new", {"name": "Team C", "email": ""}, 302),
        (
            "/masters/members/new",
            {"team": org.team_b.pk, "user": personas.outsider.email, "role": "member"},
            302,
        ),
        (
            "/masters/mappings/new",
            {
                "group": org.group_x.pk,
                "category": org.hardware.pk,
                "subcategory": org.printer.pk,
                "team": org.team_b.pk,
                "default_priority": "",
            },
            302,
        ),
        # edit
        (f"/masters/groups/{org.group_y.pk}", {"name": "Group Y", "code": "Y", "spocs": ""}, 302),
        (f"/masters/categories/{org.payroll.pk}", {"group": org.group_y.pk, "name": "Pay"}, 302),
        (
            f"/masters/subcategories/{org.printer.pk}",
            {"category": org.hardware.pk, "name": "Printers"},
            302,
        ),
        (f"/masters/teams/{org.team_b.pk}", {"name": "Team B2", "email": "b@example.com"}, 302),
        (f"/masters/members/{member.pk}", {"role": "lead"}, 302),
        (
            f"/masters/mappings/{mapping.pk}",
            {
                "group": org.group_x.pk,
                "category": org.hardware.pk,
                "subcategory": "",
                "team": org.team_a.pk,
                "default_priority": "high",
            },
            302,
        ),
    ]
    # deactivate and reactivate every kind that has a status
    for kind, obj in [
        ("groups", org.group_y),
        ("categories", org.payroll),
        ("subcategories", org.printer),
        ("teams", org.team_b),
        ("members", member),
    ]:
        posts += [
            (f"/masters/{kind}/{obj.pk}/deactivate", {}, 302),
            (f"/masters/{kind}/{obj.pk}/reactivate", {}, 302),
        ]
    posts += [
        # delete (the first is refused with a message, which is still a redirect)
        (f"/masters/categories/{org.hardware.pk}/delete", {}, 302),
        (f"/masters/mappings/{spare_mapping.pk}/delete", {}, 302),
        (f"/masters/members/{spare_member.pk}/delete", {}, 302),
        (f"/masters/subcategories/{spare_sub.pk}/delete", {}, 302),
        (f"/masters/categories/{spare_category.pk}/delete", {}, 302),
        (f"/masters/groups/{spare_group.pk}/delete", {}, 302),
        (f"/masters/teams/{spare_team.pk}/delete", {}, 302),
        # coverage, import
        (
            "/masters/coverage/add",
            {"category": org.hardware.pk, "subcategory": org.laptop.pk, "team": org.team_a.pk},
            302,
        ),
        ("/masters/import", {"file": upload}, 200),
        ("/masters/import/apply", {"token": "nope"}, 400),
    ]
    return posts


@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "admin"])
def test_only_admins_may_change_master_data(org, personas, client_for, name):
    client = client_for(getattr(personas, name))
    posts = _posts(org, personas)
    before = snapshot()
    for url, data, _ in posts:
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_admins_may_change_master_data(org, personas, client_for):
    client = client_for(personas.admin)
    posts = _posts(org, personas)
    for url, data, expected in posts:
        assert client.post(url, data).status_code == expected, url
    assert not Team.objects.filter(name="Spare team").exists()
    assert Category.objects.filter(pk=org.hardware.pk).exists()  # in use: kept


def test_state_changes_refuse_get(org, personas, client_for):
    client = client_for(personas.admin)
    for url in [
        f"/masters/teams/{org.team_b.pk}/deactivate",
        "/masters/coverage/add",
        "/masters/import/apply",
        f"/teams/{org.team_a.pk}/members",
        f"/teams/{org.team_a.pk}/members/1/remove",
    ]:
        assert client.get(url).status_code == 405, url


@pytest.mark.parametrize(
    ("name", "add", "remove_member", "remove_lead"),
    [
        ("admin", 302, 302, 302),
        ("lead", 302, 302, 403),  # a lead manages members; only admins remove a lead
        ("agent", 403, 403, 403),
        ("spoc", 403, 403, 403),
        ("requester", 403, 403, 403),
        ("outsider", 403, 403, 403),
    ],
)
def test_admins_and_the_teams_lead_add_and_remove_members(
    org, personas, client_for, name, add, remove_member, remove_lead
):
    client = client_for(getattr(personas, name))
    team = org.team_a
    member = team.members.get(user=personas.agent)
    lead = team.members.get(user=personas.lead)
    url = f"/teams/{team.pk}/members"
    assert client.post(url, {"user": personas.outsider.email}).status_code == add
    assert client.post(f"{url}/{member.pk}/remove").status_code == remove_member
    assert client.post(f"{url}/{lead.pk}/remove").status_code == remove_lead
    member.refresh_from_db()
    assert member.is_active is (remove_member != 302)


@pytest.mark.smoke
def test_a_lead_cannot_manage_another_teams_members(org, personas, client_for):
    response = client_for(personas.lead).post(
        f"/teams/{org.team_b.pk}/members", {"user": personas.outsider.email}
    )
    assert response.status_code == 403
    assert not org.team_b.members.exists()
