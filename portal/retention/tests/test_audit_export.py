"""The audit export: a period's ticket history as CSV or JSON, admins only."""

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from portal.tickets import services as tickets
from portal.tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db


def _url(start, end, fmt="csv"):
    return f"/retention/audit-export?start={start:%Y-%m-%d}&end={end:%Y-%m-%d}&format={fmt}"


@pytest.fixture
def history(raise_ticket, personas):
    """A ticket with a status change, an internal note, and an event from last year."""
    ticket = raise_ticket(title="=HYPERLINK('http://evil')")
    tickets.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.ON_HOLD)
    ticket.refresh_from_db()
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="note", internal=True)
    old = TicketEvent.objects.filter(ticket=ticket).order_by("id").first()
    TicketEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    return ticket


EXPECTED = {
    **{p: 403 for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "admin": 200,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_audit_export_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    today = timezone.localdate()
    assert client_for(user).get(_url(today, today)).status_code == EXPECTED[persona]


def test_csv_has_the_periods_events_as_codes_and_no_formulas(client_for, personas, history):
    today = timezone.localdate()
    response = client_for(personas.admin).get(_url(today - dt.timedelta(days=1), today))
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    kinds = [row["kind"] for row in rows]
    assert "created" not in kinds  # last year's event is outside the period
    status = next(row for row in rows if row["kind"] == "status")
    assert (status["old"], status["new"]) == ("new", "on_hold")
    assert status["actor"] == "admin@example.com"
    note = next(row for row in rows if row["kind"] == "commented")
    assert note["internal"] == "True" and note["ticket"] == history.number


def test_json_export_parses_and_neutralises_nothing(client_for, personas, history):
    start = timezone.localdate() - dt.timedelta(days=500)
    response = client_for(personas.admin).get(_url(start, start + dt.timedelta(days=365), "json"))
    rows = json.loads(b"".join(response.streaming_content))
    assert [row["kind"] for row in rows] == ["created"]
    assert rows[0]["new"].startswith("=HYPERLINK")  # JSON carries the value as it is


def test_formula_cells_are_neutralised_in_csv(client_for, personas, raise_ticket):
    raise_ticket(title="=1+1")
    today = timezone.localdate()
    body = b"".join(client_for(personas.admin).get(_url(today, today)).streaming_content)
    assert "'=1+1" in body.decode()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?start=2026-01-01",
        "?start=2026-02-01&end=2026-01-01",
        "?start=2024-01-01&end=2026-01-01",
        "?start=2026-01-01&end=2026-01-02&format=xml",
        "?start=yesterday&end=2026-01-02",
    ],
)
def test_a_bad_period_is_a_400(client_for, personas, query):
    response = client_for(personas.admin).get("/retention/audit-export" + query)
    assert response.status_code == 400 and "Choose a period" in response.content.decode()


def test_the_security_log_of_a_period_as_csv_and_json(client_for, personas):
    import logging

    from portal.accounts.models import SecurityEvent

    logging.getLogger("portal.security").warning(
        "login failed", extra={"email": "=cmd|' /C calc'!A0", "ip": "203.0.113.9"}
    )
    old = SecurityEvent.objects.get()
    logging.getLogger("portal.security").info("login ok", extra={"user_id": personas.agent.pk})
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    today = timezone.localdate()
    admin = client_for(personas.admin)
    response = admin.get(_url(today, today) + "&log=security")
    assert response["Content-Disposition"].startswith('attachment; filename="security-log-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    events = [(r["event"], r["user"]) for r in rows]
    assert ("login ok", "agent@example.com") in events
    assert "login failed" not in [event for event, _user in events]  # three days ago
    response = admin.get(_url(today - dt.timedelta(days=3), today, "json") + "&log=security")
    rows = json.loads(b"".join(response.streaming_content))
    failed = next(r for r in rows if r["event"] == "login failed")
    assert (failed["email"], failed["ip"], failed["level"]) == (
        "=cmd|' /C calc'!A0",
        "203.0.113.9",
        "warning",
    )
    response = admin.get(_url(today - dt.timedelta(days=3), today) + "&log=security")
    text = b"".join(response.streaming_content).decode()
    assert "'=cmd" in text  # neutralised for spreadsheets


def test_an_unknown_log_is_a_400(client_for, personas):
    today = timezone.localdate()
    response = client_for(personas.admin).get(_url(today, today) + "&log=everything")
    assert response.status_code == 400
