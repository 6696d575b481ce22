"""/masters/approvals: admins add, edit and remove the approval steps of a category or
subcategory; everyone else gets 403 and changes nothing; a bad step is a 400 naming the
field, with nothing saved."""

import pytest

from portal.accounts.models import User
from portal.catalog import approval_rule_services
from portal.catalog.models import ApprovalRule
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode


@pytest.fixture
def step(org):
    return approval_rule_services.approval_rule_create(
        category=org.hardware, approvers=Approvers.MANAGER, position=1
    )


def _state():
    rules = ApprovalRule.objects.order_by("pk")
    return [
        (r.category_id, r.subcategory_id, r.position, r.approvers, r.mode,
         sorted(r.users.values_list("pk", flat=True)))
        for r in rules
    ]  # fmt: skip


def _actions(org, personas, step):
    """(method, url, data, status for an admin); everyone else gets 403."""
    return [
        ("get", "/masters/approvals", {}, 200),
        ("get", "/masters/approvals?q=hardware", {}, 200),
        ("get", f"/masters/approvals/new?owner=s{org.laptop.pk}", {}, 200),
        ("get", f"/masters/approvals/{step.pk}", {}, 200),
        ("get", f"/masters/categories/{org.hardware.pk}", {}, 200),
        ("get", f"/masters/subcategories/{org.laptop.pk}", {}, 200),
        (
            "post",
            "/masters/approvals/new",
            {
                "owner": f"s{org.laptop.pk}",
                "position": 1,
                "approvers": "users",
                "mode": "all",
                "users": f"{personas.lead.email}, {personas.spoc.email}",
            },  # fmt: skip
            302,
        ),
        (
            "post",
            f"/masters/approvals/{step.pk}",
            {"owner": f"c{org.hardware.pk}", "position": 2, "approvers": "spoc", "mode": "any"},
            302,
        ),
        ("post", f"/masters/approvals/{step.pk}/delete", {}, 302),
        # Approval steps have no active flag: nothing to deactivate.
        ("post", f"/masters/approvals/{step.pk}/deactivate", {}, 404),
    ]


@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_gets_the_expected_status_for_each_approval_step_action(
    org, personas, client_for, step, name
):
    client = client_for(getattr(personas, name))
    before = _state()
    for method, url, data, admin_status in _actions(org, personas, step):
        response = getattr(client, method)(url, data)
        assert response.status_code == (admin_status if name == "admin" else 403), (method, url)
    if name != "admin":
        assert _state() == before


def test_anonymous_visitors_are_sent_to_sign_in(org, personas, client_for, step):
    before = _state()
    for method, url, data, _ in _actions(org, personas, step):
        response = getattr(client_for(None), method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/login"), url
    assert _state() == before


def test_an_admin_adds_edits_and_removes_steps(org, personas, client_for, step):
    client = client_for(personas.admin)
    response = client.post(
        "/masters/approvals/new",
        {
            "owner": f"s{org.laptop.pk}",
            "position": 1,
            "approvers": "users",
            "mode": "all",
            "users": f"{personas.spoc.email}\n{personas.lead.email}",
        },  # fmt: skip
    )
    assert response.status_code == 302
    added = ApprovalRule.objects.get(subcategory=org.laptop)
    assert (added.position, added.approvers, added.mode) == (1, "users", "all")
    assert set(added.users.all()) == {personas.spoc, personas.lead}

    response = client.post(
        f"/masters/approvals/{step.pk}",
        {"owner": f"c{org.hardware.pk}", "position": 3, "approvers": "spoc", "mode": "all"},
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.category, step.position, step.approvers, step.mode) == (
        org.hardware, 3, "spoc", "all",
    )  # fmt: skip

    # The category's page lists its steps and offers to add one there.
    page = client.get(f"/masters/categories/{org.hardware.pk}").content.decode()
    assert f"/masters/approvals/{step.pk}" in page
    assert f"/masters/approvals/new?owner=c{org.hardware.pk}" in page
    form = client.get(f"/masters/approvals/new?owner=c{org.hardware.pk}").context["form"]
    assert form.initial["owner"] == f"c{org.hardware.pk}"

    assert client.post(f"/masters/approvals/{added.pk}/delete").status_code == 302
    assert not ApprovalRule.objects.filter(pk=added.pk).exists()


def test_removing_a_step_leaves_approvals_already_running_alone(org, personas, client_for, step):
    from portal.tickets import services as ticket_services

    personas.requester.manager = personas.lead
    personas.requester.save(update_fields=["manager"])
    ticket = ticket_services.ticket_create(
        requester=personas.requester, title="Laptop", description="Mine broke.",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    client_for(personas.admin).post(f"/masters/approvals/{step.pk}/delete")
    assert ticket.approval_steps.count() == 1


@pytest.mark.parametrize(
    ("data", "error_field"),
    [
        ({"owner": "c999999"}, "owner"),
        ({"owner": "x1"}, "owner"),
        ({"owner": ""}, "owner"),
        ({"position": "0"}, "position"),
        ({"position": "100"}, "position"),
        ({"position": "two"}, "position"),
        ({"approvers": "boss"}, "approvers"),
        ({"mode": "most"}, "mode"),
        ({"approvers": "users", "users": ""}, "users"),
        ({"approvers": "manager", "users": "lead@example.com"}, "users"),
        ({"approvers": "users", "users": "nobody@example.com"}, "users"),
        ({"approvers": "users", "users": "gone@example.com"}, "users"),
        # Order 1 is taken on Hardware by the fixture's step.
        ({"owner": "HARDWARE", "position": "1"}, "position"),
    ],
)
def test_a_bad_step_is_a_400_naming_the_field_and_saves_nothing(
    org, personas, client_for, step, data, error_field
):
    User.objects.create_user("gone@example.com", PASSWORD, is_active=False)
    post = {"owner": f"s{org.laptop.pk}", "position": 1, "approvers": "spoc", "mode": "any"}
    post.update(data)
    if post["owner"] == "HARDWARE":
        post["owner"] = f"c{org.hardware.pk}"
    before = _state()
    response = client_for(personas.admin).post("/masters/approvals/new", post)
    assert response.status_code == 400
    assert error_field in response.context["form"].errors
    assert _state() == before


def test_a_bad_edit_is_a_400_and_leaves_the_step_as_it_was(org, personas, client_for, step):
    other = approval_rule_services.approval_rule_create(
        category=org.hardware, approvers=Approvers.SPOC, position=2
    )
    before = _state()
    response = client_for(personas.admin).post(
        f"/masters/approvals/{other.pk}",
        {"owner": f"c{org.hardware.pk}", "position": 1, "approvers": "users", "mode": "all",
         "users": personas.lead.email},
    )  # fmt: skip
    assert response.status_code == 400
    assert "position" in response.context["form"].errors
    assert _state() == before


def test_the_services_refuse_inactive_named_approvers(org, personas):
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    with pytest.raises(Exception, match="Not an active user: lead@example.com"):
        approval_rule_services.approval_rule_create(
            category=org.hardware, approvers=Approvers.USERS, users=[personas.lead]
        )
    assert not ApprovalRule.objects.exists()


def test_the_list_costs_the_same_for_any_number_of_steps(
    org, personas, client_for, django_assert_num_queries
):
    for index in range(1, 31):
        approval_rule_services.approval_rule_create(
            subcategory=org.laptop if index % 2 else None,
            category=None if index % 2 else org.hardware,
            position=index, approvers=Approvers.USERS, users=[personas.lead, personas.spoc],
        )  # fmt: skip
    client = client_for(personas.admin)
    client.get("/masters")
    # the session with its user (roles and the bell from the cache); the count, the page
    # of steps (owners joined) and their named approvers.
    with django_assert_num_queries(1 + 3):
        response = client.get("/masters/approvals")
    assert response.status_code == 200
    assert response.content.decode().count("lead@example.com") == 30
