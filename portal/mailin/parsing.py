"""Reading one raw message with the standard library's `email` (policy.default).

What comes out is plain data the rest of email in decides on: who sent it, what it answers
(In-Reply-To, References), its subject and text (HTML turned into Markdown), its files,
the headers that say it was sent by a program, and a content hash. Nothing here touches
the database.

Charsets: a part is decoded with the charset it declares; a charset Python does not know,
or bytes that are not what the part claims, are decoded leniently (undecodable bytes
become U+FFFD) instead of losing the message.
"""

import hashlib
import io
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from portal.lib.emails import header_safe, message_ids
from portal.mailin.html import html_to_markdown


@dataclass
class MailFile:
    """An attachment, shaped like an upload for `validate_upload` (a name and `read()`)."""

    name: str
    content: bytes

    def __post_init__(self) -> None:
        self._stream = io.BytesIO(self.content)
        self.size = len(self.content)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the From address, lower-case ("" when there is none)
    sender_name: str
    recipients: list[str]  # To and Cc addresses, lower-case
    subject: str
    date: str
    in_reply_to: list[str]
    references: list[str]
    text: str  # the body as Markdown, quoted history included
    files: list[MailFile] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → value
    content_type: str = ""
    content_hash: str = ""
    # For a bounce (a delivery report, or mail from MAILER-DAEMON/postmaster): the
    # addresses it reports as failed for good, and as failed for now (flufl.bounce).
    bounced_permanent: list[str] = field(default_factory=list)
    bounced_temporary: list[str] = field(default_factory=list)
    # The Message-IDs of the mail that bounced, from the report's copy of its headers
    # (message/rfc822 or text/rfc822-headers): what names the exact delivery that failed.
    bounced_message_ids: list[str] = field(default_factory=list)

    @property
    def is_bounce(self) -> bool:
        return bool(self.bounced_permanent or self.bounced_temporary)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def thread_ids(self) -> list[str]:
        """Ids this message answers: In-Reply-To first (the direct parent), then References
        from the newest back to the thread's root."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


def parse(raw: bytes) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    name, sender = parseaddr(_header(message, "From"))
    text = _body_text(message)
    files = list(_files(message))
    headers = {key.lower(): _header(message, key) for key in message.keys()}
    parsed = ParsedMail(
        message_id=(message_ids(_header(message, "Message-ID")) or [""])[0],
        sender=sender.strip().lower(),
        sender_name=header_safe(name, max_length=150),
        recipients=[
            addr.lower()
            for _, addr in getaddresses([_header(message, "To"), _header(message, "Cc")])
            if addr
        ],
        subject=header_safe(_header(message, "Subject"), max_length=255),
        date=_header(message, "Date"),
        in_reply_to=message_ids(_header(message, "In-Reply-To")),
        references=message_ids(_header(message, "References")),
        text=text,
        files=files,
        headers=headers,
        content_type=message.get_content_type(),
    )
    parsed.content_hash = content_hash(parsed)
    if parsed.content_type == "multipart/report" or parsed.sender.startswith(_BOUNCERS):
        # Only mail that looks like a bounce is scanned: the detectors are heuristics, and
        # a person's mail quoting a bounce must not suppress anyone.
        temporary, permanent = all_failures(message)
        parsed.bounced_permanent = sorted(_address(item) for item in permanent)
        parsed.bounced_temporary = sorted(_address(item) for item in temporary)
        parsed.bounced_message_ids = _returned_message_ids(message)
    return parsed


_BOUNCERS = ("mailer-daemon@", "postmaster@")


def _address(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.strip().lower()


def _returned_message_ids(message: EmailMessage) -> list[str]:
    """The Message-ID of each returned message a bounce quotes: RFC 3464 reports carry the
    original as `message/rfc822` or its headers as `text/rfc822-headers`; many servers
    quote it in a text part instead, which is not read (the address match stands in)."""
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            value = _header(inner, "Message-ID") if isinstance(inner, EmailMessage) else ""
        elif kind == "text/rfc822-headers":
            headers = BytesParser(policy=policy.default).parsebytes(
                _payload_bytes(part), headersonly=True
            )
            value = _header(headers, "Message-ID")
        else:
            continue
        found += [mid for mid in message_ids(value) if mid not in found]
    return found


def content_hash(parsed: ParsedMail) -> str:
    """Sender, date and body (text and files): the same mail read twice hashes the same; two
    different mails that share a Message-ID (broken mailers reuse them) do not."""
    digest = hashlib.sha256()
    for part in (parsed.sender, parsed.date.strip(), parsed.subject, parsed.text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    for item in parsed.files:
        digest.update(item.name.encode("utf-8", "replace") + b"\0")
        digest.update(hashlib.sha256(item.content).digest())
    return digest.hexdigest()


def _header(message: EmailMessage, name: str) -> str:
    """A header as text; a header too broken for the parser still gives its raw value."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # malformed headers in the wild
        value = message.get_all(name, failobj=[""])[0]
    return str(value or "")


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _decoded(part: MIMEPart) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = _payload_bytes(part)
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # a charset nobody knows
            return payload.decode("utf-8", errors="replace")


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = _decoded(body)
    if body.get_content_type() == "text/html":
        return html_to_markdown(content)
    return content.replace("\r\n", "\n").strip()


def _files(message: EmailMessage):
    """Attachments, and inline parts that are files; not the images a signature or an
    HTML body shows inline (they carry a Content-ID and no attachment disposition)."""
    body = message.get_body(preferencelist=("plain", "html"))
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition != "attachment" and (not filename or part.get("Content-ID")):
            continue
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            content = inner.as_bytes() if isinstance(inner, Message) else b""
        else:
            content = _payload_bytes(part)
        yield MailFile(name=filename or "attachment", content=content)
