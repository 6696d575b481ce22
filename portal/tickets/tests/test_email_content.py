"""Emails read as typed: plain-text subjects and bodies are not HTML-escaped, the HTML part
renders Markdown as the ticket page does, and headers stay one line. Read on a real SMTP
server, through every kind of ticket notification."""

import pytest

from portal.lib import markdown
from portal.lib.emails import render_email
from portal.notifications import delivery
from portal.notifications.models import EmailDelivery
from portal.testing.notices import deliver_pending
from portal.tickets import notify, routing, services, sla
from portal.tickets.models import Status

pytestmark = pytest.mark.django_db

TITLE = 'Tom\'s "VPN" & <Wi-Fi> drops'
MARKDOWN = "Press **Fn + Esc** & then <b>reboot</b>."
ESCAPES = ("&#x27;", "&#39;", "&amp;", "&lt;", "&gt;", "&quot;")


def _send_every_kind(personas, org, raise_ticket):
    ticket = raise_ticket(title=TITLE, description=MARKDOWN)  # created, received
    holder = ticket.assignee
    other = personas.lead if holder.pk == personas.agent.pk else personas.agent
    ticket = services.ticket_assign(  # assigned, unassigned
        actor=personas.spoc, ticket=ticket, assignee=other, reason="Knows <Wi-Fi> & VPN"
    )
    services.comment_add(actor=personas.requester, ticket=ticket, body=MARKDOWN)  # comment
    ticket = services.ticket_change_status(  # status
        actor=other, ticket=ticket, status=Status.RESOLVED, reason='Fixed the "VPN" & co'
    )
    ticket.refresh_from_db()
    notify.sla_at_risk(ticket, target=sla.RESOLUTION)
    notify.sla_breached(ticket, target=sla.RESOLUTION)
    ticket.sla_paused_at = ticket.resolved_at  # reminder: its key names the hold's start
    notify.hold_reminder(ticket, days=3, close_days=10)
    # waiting: what the SPOC is told when the routing chain leaves a ticket with them.
    notify.ticket_routed(
        ticket, actor=None, holder=routing.holder_for(team=org.team_b, group=org.group_x)
    )
    # merged: what the requester of a duplicate is told.
    survivor = raise_ticket(title=TITLE, description=MARKDOWN)
    notify.ticket_merged(ticket, survivor, actor=other)
    return ticket


def test_every_kind_reads_as_typed_on_a_real_smtp_server(personas, org, raise_ticket, smtp_server):
    _send_every_kind(personas, org, raise_ticket)
    deliver_pending()
    sent_kinds = set(EmailDelivery.objects.values_list("kind", flat=True))
    # Every ticket kind went through (and the satisfaction request the resolution asks for,
    # portal.csat's: its email must read as typed too).
    assert sent_kinds == set(notify.KINDS) | {"csat_request"}
    assert delivery.sweep() == {"sent": EmailDelivery.objects.count()}
    assert len(smtp_server.received) == EmailDelivery.objects.count()
    rendered = markdown.render(MARKDOWN)
    for received in smtp_server.received:
        message = received.message
        subject = message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert TITLE in subject, subject
        assert TITLE in text
        assert not any(escape in subject + text for escape in ESCAPES), (subject, text)
        # HTML: the title escaped once, never raw markup and never double-escaped.
        assert "Tom&#x27;s &quot;VPN&quot; &amp; &lt;Wi-Fi&gt; drops" in html
        assert "<Wi-Fi>" not in html and "&amp;amp;" not in html
        if MARKDOWN in text:  # a body or description: the ticket page's HTML for it
            assert rendered in html, html
            assert "<strong>Fn + Esc</strong>" in html
            assert "**Fn + Esc**" not in html
            assert "<b>reboot</b>" not in html  # typed HTML stays text, as on the page


def test_the_reason_and_note_read_as_typed_in_text_parts(personas, org, raise_ticket, smtp_server):
    _send_every_kind(personas, org, raise_ticket)
    deliver_pending()
    delivery.sweep()
    texts = [r.message.get_body(("plain",)).get_content() for r in smtp_server.received]
    assert any("Reason: Knows <Wi-Fi> & VPN" in text for text in texts)
    assert any('Their note: Fixed the "VPN" & co' in text for text in texts)


def test_a_subject_never_carries_a_second_header(personas, org, raise_ticket, smtp_server):
    raise_ticket(title="Printer's & <jam>\r\nBcc: x@evil.example")
    deliver_pending()
    delivery.sweep()
    assert smtp_server.received
    for received in smtp_server.received:
        assert received.message["Bcc"] is None
        assert received.message["Subject"].endswith("Printer's & <jam> Bcc: x@evil.example")
        assert all("evil.example" not in rcpt for rcpt in received.rcpt_tos)


@pytest.mark.parametrize("name", sorted(notify.KINDS))
def test_each_preview_shows_the_subject_its_kind_is_sent_with(name, personas):
    kind = notify.KINDS[name]
    sample = kind.sample_context()
    subject = render_email(kind.email_template, {**sample, "recipient": personas.admin}).subject
    expected = {
        "ticket_created": "New ticket TKT-000123:",
        "ticket_received": "We received your ticket TKT-000123:",
        "ticket_assigned": "TKT-000123 is assigned to you:",
        "ticket_unassigned": "TKT-000123 is no longer yours",
        "ticket_waiting": "TKT-000123 is waiting for you (IT Network & Security has no active",
        "ticket_status": "TKT-000123 is now Resolved:",
        "ticket_comment": "New comment on TKT-000123:",
        "ticket_reminder": "TKT-000123 is waiting for your answer:",
        "sla_at_risk": "Resolution due soon on TKT-000123:",
        "sla_breached": "SLA missed: resolution on TKT-000123:",
        "ticket_merged": "TKT-000123 was merged into",
    }[name]
    assert subject.startswith(expected)


def test_the_previews_page_shows_each_kinds_subject(client_for, personas):
    page = client_for(personas.admin).get("/notifications/templates").content.decode()
    assert "<strong>Subject:</strong> New comment on TKT-000123:" in page
    assert "<strong>Subject:</strong> New ticket TKT-000123:" in page
