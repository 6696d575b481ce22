"""Rendering emails from three templates: `emails/<name>-subject.txt`, `-body.txt`, `-body.html`.

User content reaches emails only through template context. The HTML body is escaped by
the template engine; the subject and the text body are plain text, rendered with
autoescaping off, so a title like `Tom's "VPN" & <Wi-Fi>` reads as typed instead of
`Tom&#x27;s &quot;VPN&quot; &amp; &lt;Wi-Fi&gt;`. Nothing in plain text is interpreted, and
header values are flattened to one line here: a ticket titled
`Printer\r\nBcc: x@evil.example` gives a subject with spaces, never a second header.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template, render_to_string
from django.utils.crypto import salted_hmac

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
    wrapper = get_template(template_name)
    if not isinstance(wrapper, DjangoTemplate):  # the engine's Template is needed, not the wrapper
        raise TypeError(f"{template_name} is not a Django template: it needs a Context.")
    return wrapper.template.render(Context(context, autoescape=False))


def render_email(name: str, context: dict) -> RenderedEmail:
    return RenderedEmail(
        subject=header_safe(render_plain_text(f"emails/{name}-subject.txt", context)),
        text=render_plain_text(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


# --- Signed Message-IDs: how a reply finds its thread again ---------------------------------
#
# Every message about a thread (a ticket: thread key `tkt-42`) gets a Message-ID whose local
# part carries the thread key, the event and the recipient, and an HMAC of them keyed by the
# SECRET_KEY: `<tkt-42.3f9c1a2b7d.17.<20 hex>@domain>`. The thread's (never sent) first
# message is `<tkt-42.<20 hex>@domain>`. A reply names one of them in In-Reply-To or
# References; `verify_message_id` gives the thread key back only when the signature holds, so
# nobody can aim a mail at a ticket by writing `<tkt-42…>` into a header. Lower-case hex only:
# some gateways fold case. The domain is not signed: changing FROM_EMAIL keeps old threads.

_SIGN_SALT = "portal.lib.emails.message-id"
_SIG_LENGTH = 20  # hex digits: 80 bits
_KEY_CHARS = re.compile(r"[^a-z0-9-]")
_MESSAGE_ID = re.compile(r"<([^<>@\s]+)@([^<>@\s]+)>")


def _signature(payload: str, secret: str | None = None) -> str:
    mac = salted_hmac(_SIGN_SALT, payload, secret=secret, algorithm="sha256")
    return mac.hexdigest()[:_SIG_LENGTH]


def _thread_part(thread_key: str) -> str:
    return _KEY_CHARS.sub("-", thread_key.lower())


def signed_thread_id(thread_key: str, domain: str) -> str:
    """The stable, signed Message-ID of a thread's first message (e.g. `<tkt-42.…@domain>`)."""
    payload = _thread_part(thread_key)
    return f"<{payload}.{_signature(payload)}@{domain}>"


def signed_message_id(thread_key: str, *, event_key: str, recipient_id, domain: str) -> str:
    """One message of a thread, for one event and one recipient; the same inputs give the
    same Message-ID (the outbox's (event, address) uniqueness makes it unique)."""
    event = hashlib.sha256(event_key.encode()).hexdigest()[:10]
    payload = f"{_thread_part(thread_key)}.{event}.{int(recipient_id or 0)}"
    return f"<{payload}.{_signature(payload)}@{domain}>"


@dataclass(frozen=True)
class SignedId:
    thread_key: str
    recipient_id: int | None  # None for the thread's first message


def verify_message_id(message_id: str) -> SignedId | None:
    """The thread (and recipient) a Message-ID of ours names, or None when it is not ours
    or its signature does not hold (tried with SECRET_KEY and SECRET_KEY_FALLBACKS)."""
    match = _MESSAGE_ID.fullmatch((message_id or "").strip())
    if not match:
        return None
    payload, _, signature = match.group(1).rpartition(".")
    if not payload or len(signature) != _SIG_LENGTH:
        return None
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(_signature(payload, s), signature) for s in secrets):
        return None
    parts = payload.split(".")
    if len(parts) == 1:
        return SignedId(parts[0], None)
    if len(parts) == 3 and parts[2].isdigit():
        return SignedId(parts[0], int(parts[2]) or None)
    return None


def message_ids(header_value: str | None) -> list[str]:
    """Every `<id@domain>` in an In-Reply-To or References header, in order."""
    return [m.group(0) for m in _MESSAGE_ID.finditer(header_value or "")]


def tagged_subject(tag: str, subject: str) -> str:
    """`[TKT-000123] …`: the stable tag a mail client keeps in a reply's subject."""
    if not tag:
        return subject
    return header_safe(f"[{tag}] {subject}")
