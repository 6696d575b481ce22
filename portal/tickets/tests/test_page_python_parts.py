"""The parts of the ticket page written in Python (detail_forms_html: the side, the add-files
form, the comment form with its pickers) leave whole pages byte for byte what the template
writes without them, for every persona and the states that change those parts: an open
ticket with a parent's open child, a closed one a requester's comment reopens, one past
its window (the follow-up offer, the template's), a watcher's view; hostile text in titles
and names. CSRF tokens, nonces and idempotency keys differ per request and are masked."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from django.utils.safestring import mark_safe

from portal.accounts.models import User
from portal.tickets import detail_forms_html, detail_html, merge_services, services
from portal.tickets.models import Status, Ticket

HOSTILE = '<b onmouseover="x">&\'"'

MASKS = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), "csrf"),
    (re.compile(r'"X-CSRFToken": "[^"]+"'), "csrf-header"),
    (re.compile(r'nonce="[^"]+"'), "nonce"),
    (re.compile(r'name="idempotency_key" value="[^"]+"'), "key"),
]
# Each part's writer, by the module that holds it.
WRITERS = {
    "side_html": detail_forms_html,
    "add_files_html": detail_forms_html,
    "comment_form_html": detail_forms_html,
    "answers_html": detail_html,
    "family_html": detail_html,
    "assets_html": detail_html,
}


def _masked(html: str) -> str:
    for pattern, name in MASKS:
        html = pattern.sub(name, html)
    return html


def _both(client, ticket, monkeypatch, *, written=WRITERS) -> tuple[str, str]:
    """The page with the Python parts, then without them. `written`: the parts the first
    request must have written in Python (the rest fall to the template there too)."""
    called = []
    with monkeypatch.context() as patch:
        for name, module in WRITERS.items():
            writer = getattr(module, name)

            def spy(*args, _writer=writer, _name=name, **kwargs):
                called.append(_name)
                return _writer(*args, **kwargs)

            patch.setattr(module, name, spy)
        python = client.get(ticket.get_absolute_url())
    assert python.status_code == 200
    assert sorted(called) == sorted(written)
    with monkeypatch.context() as patch:
        for name, module in WRITERS.items():
            patch.setattr(module, name, lambda *args, **kwargs: mark_safe(""))
        patch.setattr(detail_html, "NO_NOTICE", mark_safe(""))
        template = client.get(ticket.get_absolute_url())
    return _masked(python.content.decode()), _masked(template.content.decode())


@pytest.fixture
def family(raise_ticket, personas):
    """A ticket with hostile text, an open child, and the agent watching it."""
    ticket = raise_ticket(title=HOSTILE, description=f"**{HOSTILE}**")
    child = raise_ticket(title=HOSTILE)
    merge_services.ticket_set_parent(
        actor=personas.admin, ticket=child, parent_number=ticket.number
    )
    services.ticket_watch(actor=personas.agent, ticket=ticket)
    services.comment_add(actor=personas.agent, ticket=ticket, body=HOSTILE, internal=True)
    return ticket


@pytest.mark.parametrize("persona", ["requester", "agent", "lead", "spoc", "admin", "watcher"])
def test_an_open_ticket_page_is_the_same_as_with_the_template(
    persona, personas, client_for, family, monkeypatch
):
    if persona == "watcher":
        user = User.objects.create_user("watcher@example.com", "x", full_name=HOSTILE)
        family.watchers.add(user)
    else:
        user = getattr(personas, persona)
    python, template = _both(client_for(user), family, monkeypatch)
    assert 'id="ticket-side"' in python and 'class="add-files"' in python
    assert python == template


def _closed(ticket, personas, *, days_ago: int) -> Ticket:
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        ticket = services.ticket_change_status(actor=personas.admin, ticket=ticket, status=status)
    ticket = services.ticket_change_status(
        actor=personas.requester, ticket=ticket, status=Status.CLOSED
    )
    if days_ago:
        past = timezone.now() - dt.timedelta(days=days_ago)
        Ticket.objects.filter(pk=ticket.pk).update(resolved_at=past, closed_at=past)
    return ticket


@pytest.mark.parametrize("days_ago", [0, 30])  # a comment reopens it; past the window
@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
def test_a_closed_ticket_page_is_the_same_as_with_the_template(
    persona, days_ago, personas, client_for, ticket, monkeypatch
):
    ticket = _closed(ticket, personas, days_ago=days_ago)
    past = persona == "requester" and days_ago == 30  # the follow-up instead of the form
    written = [name for name in WRITERS if not (past and name == "comment_form_html")]
    client = client_for(getattr(personas, persona))
    python, template = _both(client, ticket, monkeypatch, written=written)
    if persona == "requester":
        assert ('id="comment-reopens"' in python) == (days_ago == 0)
        assert ('id="follow-up"' in python) == (days_ago == 30)
    assert python == template


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
@pytest.mark.parametrize("side", ["duplicate", "survivor"])
def test_a_merged_ticket_page_is_the_same_as_with_the_template(
    persona, side, personas, client_for, raise_ticket, monkeypatch
):
    duplicate = raise_ticket(title=HOSTILE)
    survivor = raise_ticket(title=f"Survivor {HOSTILE}")
    merge_services.ticket_merge(actor=personas.admin, ticket=duplicate, into_number=survivor.number)
    ticket = duplicate if side == "duplicate" else survivor
    python, template = _both(client_for(getattr(personas, persona)), ticket, monkeypatch)
    assert ('id="merged-into"' in python) == (side == "duplicate")
    assert python == template
