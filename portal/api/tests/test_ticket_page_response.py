"""The API's ticket list, answered without validating its page against TicketPage, is the
same bytes ninja wrote after validating it (serializers.ticket_page_response)."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from portal.api import serializers
from portal.api.api import api
from portal.api.schemas import TicketPage
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db

HOSTILE = "<script>\"x\"</script> & 'quotes' \u2028 \\ é 😀"


def ninja_answer(items: list[dict], next_cursor: str | None) -> bytes:
    """What ninja answers for `{"items": …, "next_cursor": …}` under `response=TicketPage`
    (ninja.operation: validate, `model_dump` with its defaults, the API's renderer)."""
    page = TicketPage.model_validate({"items": items, "next_cursor": next_cursor})
    data = page.model_dump(
        by_alias=False, exclude_unset=False, exclude_defaults=False, exclude_none=False
    )
    return api.renderer.render(None, data, response_status=200).encode()


def _variants(tickets: list[Ticket], now: dt.datetime) -> list[Ticket]:
    """The tickets with every kind of value a page can hold, changed in memory only."""
    first, second, third, fourth, fifth = tickets
    hour = dt.timedelta(hours=1)
    # An SLA in each state; microseconds and other offsets in the datetimes.
    deadlines = [(now + 9 * hour, now + 5 * hour), (now + hour, now - hour), (now - hour, now)]
    for ticket, (due, risk) in zip(tickets, deadlines * 2, strict=False):
        ticket.sla_policy_name = "Standard"
        ticket.sla_response_due_at, ticket.sla_response_at_risk_at = due, risk
        ticket.sla_resolution_due_at = due + 24 * hour
        ticket.sla_resolution_at_risk_at = None
    fourth.sla_paused_at = now.replace(microsecond=123456)
    fifth.first_response_at = now - 2 * hour
    fifth.resolved_at = now - hour
    first.title, first.description = HOSTILE, HOSTILE * 3
    first.form_values = {"asset": "LT-1", "nested": {"a": [1, 2.5, None, True]}, "é": HOSTILE}
    first.merged_into_id, first.parent_id = 42, 7
    first.closed_at = now.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    third.subcategory = None
    third.team = None
    third.assignee = None
    third.form_values = None
    fifth.sla_policy_name = ""
    return tickets


def test_a_page_is_the_bytes_ninja_wrote_after_validating_it(raise_ticket, personas, org):
    for index in range(5):
        raise_ticket(title=f"Ticket {index}")
    now = timezone.now()
    loaded = list(
        access.visible_tickets(personas.admin)
        .select_related("requester", "assignee", "group", "category", "subcategory", "team")
        .order_by("id")[:5]
    )
    tickets = _variants(loaded, now)
    url = serializers.ticket_urls()
    items = [serializers.ticket(t, now, url=url(t.number)) for t in tickets]
    states = {(item["sla"] or {}).get("state") for item in items}
    assert states >= {"on_track", "at_risk", "breached", None}
    for cursor in (None, "eyJhIjogMX0", HOSTILE):
        response = serializers.ticket_page_response(items, cursor)
        assert response.status_code == 200
        assert response["Content-Type"] == api.get_content_type()
        assert response.content == ninja_answer(items, cursor)
    assert serializers.ticket_page_response([], None).content == ninja_answer([], None)


def test_the_endpoint_answers_the_validated_page(raise_ticket, personas, api_for):
    for index in range(30):
        raise_ticket(title=f"Ticket {index} {HOSTILE}")
    response = api_for(personas.agent).get("/tickets?sort=-created")
    assert response.status_code == 200
    assert response["Content-Type"] == api.get_content_type()
    body = response.json()
    assert len(body["items"]) == 25 and body["next_cursor"]
    # The same page through ninja's validation: its tickets' dicts, re-read.
    numbers = [item["number"] for item in body["items"]]
    tickets = {
        t.number: t
        for t in access.visible_tickets(personas.agent).select_related(
            "requester", "assignee", "group", "category", "subcategory", "team"
        )
    }
    items = [serializers.ticket(tickets[number]) for number in numbers]
    assert response.content == ninja_answer(items, body["next_cursor"])
    assert json.loads(ninja_answer(items, body["next_cursor"])) == body
