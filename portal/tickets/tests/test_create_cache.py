"""What raising a ticket reads from the cache (the classification's mapping, request form,
approval rules and SLA policy: master data cached until it changes) follows a change at
the very next ticket, and costs no query once warm."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.catalog import approval_rule_services, form_services
from portal.catalog import services as catalog_services
from portal.catalog.models import ApprovalRule
from portal.sla import services as sla_services
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets.errors import InvalidFormValues
from portal.tickets.models import Status
from portal.tickets.tests.sla_fixtures import T0, always_open, clock_at  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_changed_mapping_routes_the_next_ticket_to_the_new_team(raise_ticket, org, personas):
    assert raise_ticket().team == org.team_a
    catalog_services.team_member_add(team=org.team_b, user=personas.lead)
    catalog_services.mapping_update(
        mapping=org.mapping_hardware, category=org.hardware, subcategory=None, team=org.team_b
    )
    ticket = raise_ticket()
    assert ticket.team == org.team_b and ticket.assignee == personas.lead


def test_a_new_request_form_field_is_asked_on_the_next_ticket(raise_ticket, org):
    assert raise_ticket(form_values={}).form_values == {}
    form_services.form_field_create(
        category=org.hardware, key="asset", label="Asset tag", field_type="text", required=True
    )
    with pytest.raises(InvalidFormValues) as refused:
        raise_ticket(form_values={})
    assert refused.value.errors == {"asset": "This field is required."}
    assert raise_ticket(form_values={"asset": "A-1"}).form_values == {"asset": "A-1"}


def test_a_new_approval_rule_holds_the_next_ticket(raise_ticket, org):
    assert raise_ticket().status == Status.NEW
    approval_rule_services.approval_rule_create(
        approvers=ApprovalRule.Approvers.SPOC, subcategory=org.laptop
    )
    assert raise_ticket().status == Status.AWAITING
    assert raise_ticket(subcategory=org.printer).status == Status.NEW


def test_changed_sla_definitions_apply_to_the_next_ticket(always_open, raise_ticket):  # noqa: F811
    with clock_at(T0):
        assert raise_ticket().sla_response_due_at == T0 + dt.timedelta(hours=4)
    always_open.medium_first_response = dt.timedelta(hours=2)
    sla_services.policy_save(policy=always_open)
    with clock_at(T0):
        assert raise_ticket().sla_response_due_at == T0 + dt.timedelta(hours=2)
    # Holidays imported in bulk send no model signal: only the service's announce_change
    # makes the next ticket see them.
    sla_services.holidays_import(calendar=always_open.calendar, text=f"{T0.date()} Closed")
    with clock_at(T0):  # a holiday: the clock starts at midnight, 15 hours later
        assert raise_ticket().sla_response_due_at == T0 + dt.timedelta(hours=15 + 2)


def test_a_warm_ticket_creation_reads_no_master_data(raise_ticket):
    raise_ticket()  # mapping, form, approval rules and SLA policy now cached
    with CaptureQueriesContext(connection) as captured:
        raise_ticket()
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    for table in ("classificationmapping", "formfield", "approvalrule", "slapolicy", "holiday"):
        assert f'"{table}' not in tables.replace('"catalog_', '"').replace('"sla_', '"'), table


def test_a_category_deactivated_since_the_last_ticket_is_refused_by_the_form(
    org, personas, client_for
):
    client = client_for(personas.requester)
    form = {
        "title": "Dock flickers", "description": "Since this morning.",
        "group": org.group_x.pk, "category": org.hardware.pk, "subcategory": org.laptop.pk,
        "priority": "",
    }  # fmt: skip
    sent = client.post("/tickets/new", {**form, "idempotency_key": str(uuid.uuid4())})
    assert sent.status_code == 302  # the group, category and subcategory now cached
    catalog_services.category_deactivate(category=org.hardware)
    refused = client.post("/tickets/new", {**form, "idempotency_key": str(uuid.uuid4())})
    assert refused.status_code == 400
    assert "category" in refused.context["form"].errors
    catalog_services.subcategory_update(
        subcategory=org.printer, category=org.payroll, name="Printer"
    )
    moved = client.post(
        "/tickets/new",
        {**form, "category": org.payroll.pk, "subcategory": org.printer.pk,
         "idempotency_key": str(uuid.uuid4())},
    )  # fmt: skip
    assert moved.status_code == 400  # Payroll is in group Y, not X


def _spocs_told(ticket) -> set[str]:
    deliver_pending()
    from portal.notifications.models import EmailDelivery

    return set(
        row.body_text
        for row in written(
            EmailDelivery.objects.filter(
                event_key=f"ticket:{ticket.pk}:created", kind="ticket_created"
            )
        )
    )


def test_a_warm_ticket_creation_reads_no_spoc(raise_ticket):
    raise_ticket()  # the group's SPOCs now cached
    with CaptureQueriesContext(connection) as captured:
        raise_ticket()
    assert not any("spocs" in q["sql"] for q in captured.captured_queries)


def test_a_spoc_named_removed_renamed_or_deactivated_is_seen_by_the_next_ticket(
    raise_ticket, org, personas
):
    from portal.accounts import services as account_services

    assert [body.splitlines()[0] for body in _spocs_told(raise_ticket())] == ["Hello Spoc,"]
    catalog_services.group_update(
        group=org.group_x, name="Group X", code="X", spocs=[personas.spoc, personas.outsider]
    )
    greetings = {body.splitlines()[0] for body in _spocs_told(raise_ticket())}
    assert greetings == {"Hello Spoc,", "Hello Outsider,"}
    account_services.user_update(user=personas.outsider, actor=None, full_name="Olga Out")
    greetings = {body.splitlines()[0] for body in _spocs_told(raise_ticket())}
    assert greetings == {"Hello Spoc,", "Hello Olga,"}
    account_services.user_update(
        user=personas.outsider, actor=None, full_name="Olga Out", is_active=False
    )
    assert {body.splitlines()[0] for body in _spocs_told(raise_ticket())} == {"Hello Spoc,"}
    catalog_services.group_update(group=org.group_x, name="Group X", code="X", spocs=[])
    assert _spocs_told(raise_ticket()) == set()


def test_signing_in_keeps_the_cached_spocs(raise_ticket, personas):
    """Only `last_login` changes when someone signs in: the SPOC lists stay cached."""
    from django.contrib.auth.models import update_last_login

    raise_ticket()
    update_last_login(None, personas.spoc)
    with CaptureQueriesContext(connection) as captured:
        raise_ticket()
    assert not any("spocs" in q["sql"] for q in captured.captured_queries)
