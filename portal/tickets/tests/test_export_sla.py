"""The CSV export carries each ticket's service level as the list shows it."""

import csv
import io

import pytest

from portal.tickets import services
from portal.tickets.tests.sla_fixtures import T0, H, always_open, clock_at

pytestmark = pytest.mark.django_db
always_open = always_open  # the fixture, imported for this module

SLA_COLUMNS = ["SLA policy", "SLA state", "First response due", "Resolution due"]


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_lists_policy_state_and_both_due_times(
    always_open, raise_ticket, personas, client_for
):
    with clock_at(T0):
        ticket = raise_ticket(priority="urgent")  # response due T0+1h, resolution T0+4h
    with clock_at(T0 + 50 * H / 60):  # 50 minutes in: past 80 % of the response target
        response = client_for(personas.agent).get("/tickets/export.csv")
    assert response.status_code == 200
    [row] = _rows(response)
    assert row["Number"] == ticket.number
    assert [row[name] for name in SLA_COLUMNS] == [
        "Standard",
        "At risk",
        (T0 + H).isoformat(),
        (T0 + 4 * H).isoformat(),
    ]


def test_a_paused_ticket_has_no_resolution_due_and_a_cancelled_one_empty_cells(
    always_open, raise_ticket, personas, client_for
):
    with clock_at(T0):
        paused = raise_ticket(title="Waiting for the requester")
        services.ticket_change_status(actor=personas.agent, ticket=paused, status="in_progress")
        services.ticket_change_status(actor=personas.agent, ticket=paused, status="on_hold")
        cancelled = raise_ticket(title="Never mind")
        services.ticket_change_status(
            actor=personas.requester, ticket=cancelled, status="cancelled"
        )
    with clock_at(T0 + H / 2):
        response = client_for(personas.admin).get("/tickets/export.csv")
    rows = {row["Number"]: row for row in _rows(response)}
    # On hold: the clocks stop and the due times are unknown until it resumes.
    assert [rows[paused.number][name] for name in SLA_COLUMNS] == ["Standard", "Paused", "", ""]
    assert [rows[cancelled.number][name] for name in SLA_COLUMNS] == ["", "", "", ""]
