"""Rendering emails from three templates: `emails/<name>-subject.txt`, `-body.txt`, `-body.html`.

User content reaches emails only through template context, so the HTML body is escaped by
the template engine. Header values are flattened to one line here: a ticket titled
`Printer\r\nBcc: x@evil.example` gives a subject with spaces, never a second header.
"""

import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.template.loader import render_to_string

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


def render_email(name: str, context: dict) -> RenderedEmail:
    return RenderedEmail(
        subject=header_safe(render_to_string(f"emails/{name}-subject.txt", context)),
        text=render_to_string(f"emails/{name}-body.txt", context),
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
