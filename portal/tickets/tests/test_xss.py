"""User-written text is shown, never run: titles escaped, Markdown sanitised, htmx disabled."""

from html.parser import HTMLParser

import pytest

from portal.lib.markdown import render
from portal.tickets import services

pytestmark = pytest.mark.smoke

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div hx-get="/logout" hx-trigger="load">x</div>',
    "![img](javascript:alert(1))",
    '[t](http://example.com "x\\" onmouseover=\\"alert(1)")',
]


class _ActiveMarkup(HTMLParser):
    """Collects markup that could run: script not from our static files, event handler
    attributes, script/data URLs, embedded frames, and htmx requests to /logout."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append(f"<script> {attrs}")
        # (The page's own chrome may use <svg> icons; any event handler on them is caught
        # below, as on every other element.)
        if tag in {"iframe", "object", "embed"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in {"href", "src", "action"} and value.startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={value}")
            if name.startswith("hx-") and "/logout" in value:
                self.found.append(f"{tag} {name}={value}")


def active_markup(html: str) -> list[str]:
    parser = _ActiveMarkup()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_renders_each_payload_inert(payload):
    assert active_markup(render(payload)) == []


def test_markdown_keeps_ordinary_formatting_and_safe_links():
    html = render("**bold** and [docs](https://example.com/a?b=1)")
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com/a?b=1"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_title_description_and_comment_are_inert_on_every_page(
    payload, raise_ticket, personas, client_for
):
    ticket = raise_ticket(title=payload[:200], description=payload)
    services.comment_add(actor=personas.agent, ticket=ticket, body=payload)
    client = client_for(personas.agent)
    for url in (f"/tickets/{ticket.number}", "/tickets", f"/tickets/{ticket.number}/edit"):
        response = client.get(url)
        assert response.status_code == 200
        assert active_markup(response.content.decode()) == [], url


@pytest.mark.django_db
def test_user_content_sits_inside_hx_disable_containers(ticket, personas, client_for):
    services.comment_add(actor=personas.agent, ticket=ticket, body="hello")
    html = client_for(personas.agent).get(f"/tickets/{ticket.number}").content.decode()
    assert html.count('class="markdown" hx-disable') == 2  # description + one comment


@pytest.mark.parametrize("payload", PAYLOADS[:4] + [PAYLOADS[7]])
def test_the_detector_itself_flags_raw_payloads(payload):
    # Guards the tests above: a detector that finds nothing would make them pass vacuously.
    assert active_markup(payload) != []
