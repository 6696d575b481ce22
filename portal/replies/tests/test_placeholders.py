"""The placeholder formatter fills a fixed table of names and nothing else: a reply's text
is never a template, so attempts to reach into the server stay plain text."""

import pytest

from portal.replies import services
from portal.replies.placeholders import PLACEHOLDERS, fill, unknown_placeholders
from portal.tickets.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_every_placeholder_is_filled_from_the_ticket_and_the_agent(personas, ticket, settings):
    settings.APP_URL = "https://portal.example.com"
    text = " | ".join("{" + name + "}" for name in PLACEHOLDERS)
    filled = fill(text, ticket=ticket, agent=personas.agent).split(" | ")
    assert dict(zip(PLACEHOLDERS, filled, strict=True)) == {
        "requester.first_name": "Requester",
        "requester.name": "Requester Persona",
        "requester.email": "requester@example.com",
        "ticket.number": ticket.number,
        "ticket.title": "Laptop will not start",
        "ticket.status": ticket.get_status_display(),
        "ticket.priority": ticket.get_priority_display(),
        "ticket.category": "Hardware",
        "ticket.team": "Team A",
        "ticket.url": f"https://portal.example.com/tickets/{ticket.number}",
        "agent.first_name": "Agent",
        "agent.name": "Agent Persona",
        "agent.email": "agent@example.com",
    }


def test_a_user_without_a_full_name_is_called_by_their_email(personas, ticket):
    personas.requester.full_name = ""
    assert fill("Hi {requester.first_name}", ticket=ticket, agent=personas.agent) == "Hi requester"


@pytest.mark.parametrize(
    "text",
    [
        "{ticket.__class__}",
        "{ticket.requester.password}",
        "{ticket.__init__.__globals__}",
        "{{ ticket.number }}x",  # Django template syntax
        "{% debug %}",
        "{% load static %}{{ settings.SECRET_KEY }}",
        "{0.__class__}",
        "{ticket}",
        "{ settings.SECRET_KEY }",
        "%(requester)s ${ticket.number}x",
    ],
)
def test_template_and_format_syntax_is_kept_as_written(text, personas, ticket):
    filled = fill(text, ticket=ticket, agent=personas.agent)
    # Only an exact `{ticket.number}` is filled; `${ticket.number}x` keeps its `$` and `x`.
    assert filled == text.replace("{ticket.number}", ticket.number)
    assert "Ticket" not in filled and "class" not in filled.replace("__class__", "")


def test_a_value_holding_placeholders_is_not_filled_again(personas, raise_ticket):
    sneaky = raise_ticket(title="{agent.email} {{ secret }}")
    text = fill("Re: {ticket.title}", ticket=sneaky, agent=personas.agent)
    assert text == "Re: {agent.email} {{ secret }}"


def test_unknown_names_are_listed_once_in_order():
    text = "{ticket.__class__} {ticket.number} {agent.password} {ticket.__class__} {{x}}"
    assert unknown_placeholders(text) == ["ticket.__class__", "agent.password"]


@pytest.mark.parametrize("body", ["Hi {requester.password}", "{ticket.__class__}"])
def test_saving_a_reply_with_an_unknown_placeholder_is_refused(body, personas, org):
    with pytest.raises(InvalidInput, match="Unknown placeholder"):
        services.canned_reply_create(actor=personas.agent, title="T", body=body)
    assert not personas.agent.canned_replies.exists()


def test_template_syntax_may_be_saved_and_stays_text(personas, org, ticket):
    reply = services.canned_reply_create(
        actor=personas.agent, title="Braces", body="Use {{ name }} and {% tag %} in config."
    )
    assert fill(reply.body, ticket=ticket, agent=personas.agent) == reply.body
