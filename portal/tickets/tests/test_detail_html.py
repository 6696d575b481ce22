"""The ticket page's comments, files and history written in Python (detail_html.py): what
people type or upload is escaped everywhere it shows, the links point where `reverse`
does, and every form of the page carries the one CSRF token of the response, which the
server accepts."""

import re

import pytest
from django.urls import reverse

from portal.tickets import services
from portal.tickets.detail_html import url_for_pk
from portal.tickets.models import Attachment

pytestmark = pytest.mark.django_db

HOSTILE = '<b onmouseover="x">&\'"'
ESCAPED = "&lt;b onmouseover=&quot;x&quot;&gt;&amp;&#x27;&quot;"


@pytest.mark.parametrize("pk", [1, 7, 310610, 2147483647])
def test_url_for_pk_writes_what_reverse_writes(pk):
    assert url_for_pk("attachment-download")(pk) == reverse("attachment-download", args=[pk])
    assert url_for_pk("ticket-comment-article", "TKT-000042")(pk) == reverse(
        "ticket-comment-article", args=["TKT-000042", pk]
    )


def test_names_files_and_reasons_people_typed_are_escaped(ticket, personas, client_for):
    personas.agent.full_name = HOSTILE
    personas.agent.save(update_fields=["full_name"])
    comment = services.comment_add(actor=personas.agent, ticket=ticket, body="Looking")
    Attachment.objects.create(
        ticket=ticket,
        comment=comment,
        uploader=personas.agent,
        original_name=f"{HOSTILE}.png",
        storage_key=f"tickets/{ticket.pk}/a.png",
        size=2048,
        content_type="image/png",
        sha256="0" * 64,
    )
    services.ticket_change_status(
        actor=personas.agent, ticket=ticket, status="on_hold", reason=HOSTILE
    )
    page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    assert HOSTILE not in page
    comments = page[page.index('<ol class="comments">') : page.index("</ol>")]
    assert f"<strong>{ESCAPED}</strong>" in comments  # the author
    assert f"download>{ESCAPED}.png</a>" in comments  # the file, with its thumbnail
    assert "2.0\xa0KB · image/png" in comments
    history = page[page.index('<ol class="timeline">') :]
    assert f"<span>{ESCAPED}</span>" in history  # who
    assert f"— {ESCAPED}</span>" in history  # why


def test_every_form_carries_the_same_accepted_token(ticket, personas, client_for):
    comment = services.comment_add(actor=personas.agent, ticket=ticket, body="Hi")
    client = client_for(personas.agent)
    client.handler.enforce_csrf_checks = True
    page = client.get(ticket.get_absolute_url()).content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    assert len(tokens) == 1
    forms = page.count('name="csrfmiddlewaretoken"')
    assert forms >= 5  # comment, watch, files, the comment's "help article", status…
    response = client.post(
        f"/tickets/{ticket.number}/comments/{comment.pk}/article",
        {"csrfmiddlewaretoken": tokens.pop()},
    )
    assert response.status_code == 302


def test_the_watch_button_reads_the_viewers_own_watch_only(ticket, personas, client_for):
    ticket.watchers.add(personas.spoc)
    page = client_for(personas.admin).get(ticket.get_absolute_url())
    assert page.context["watching"] is False
    assert ">Watch</button>" in page.content.decode()
    page = client_for(personas.spoc).get(ticket.get_absolute_url())
    assert page.context["watching"] is True
    assert ">Stop watching</button>" in page.content.decode()
