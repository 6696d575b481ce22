"""Rendering emails from three templates: `emails/<name>-subject.txt`, `-body.txt`, `-body.html`.

User content reaches emails only through template context. The HTML body is escaped by
the template engine; the subject and the text body are plain text, rendered with
autoescaping off, so a title like `Tom's "VPN" & <Wi-Fi>` reads as typed instead of
`Tom&#x27;s &quot;VPN&quot; &amp; &lt;Wi-Fi&gt;`. Nothing in plain text is interpreted, and
header values are flattened to one line here: a ticket titled
`Printer\r\nBcc: x@evil.example` gives a subject with spaces, never a second header.
"""

import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.template import Context
from django.template.loader import get_template, render_to_string

_LINE_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
MAX_SUBJECT_LENGTH = 200


def header_safe(value: str, *, max_length: int = MAX_SUBJECT_LENGTH) -> str:
    """One line, no control characters, trimmed to a length mail servers accept."""
    flat = _LINE_BREAKS.sub(" ", value or "")
    flat = "".join(ch for ch in flat if ch >= " " and ch != "\x7f")
    flat = " ".join(flat.split())
    if len(flat) > max_length:
        flat = flat[: max_length - 1].rstrip() + "…"
    return flat


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_plain_text(template_name: str, context: dict) -> str:
    """A text template rendered without HTML escaping (its includes too: they share the
    context's autoescape flag). Only for text that is never read as HTML."""
    template = get_template(template_name).template  # the engine's Template, not the wrapper
    return template.render(Context(context, autoescape=False))


def render_email(name: str, context: dict) -> RenderedEmail:
    return RenderedEmail(
        subject=header_safe(render_plain_text(f"emails/{name}-subject.txt", context)),
        text=render_plain_text(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )


def thread_message_id(thread_key: str, domain: str) -> str:
    """The stable Message-ID of a thread's (virtual) first message, e.g. one per ticket.

    Every message about the thread names it in In-Reply-To and References, so mail
    clients group them even though the first message is never sent itself.
    """
    safe_key = re.sub(r"[^A-Za-z0-9._-]", "-", thread_key)
    return f"<{safe_key}@{domain}>"


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)
