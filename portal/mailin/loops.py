"""Mail the portal must not answer, nor turn into tickets: the first line of loop safety.

- Mail sent by a program: `Auto-Submitted` other than "no" (RFC 3834), `Precedence`
  bulk/junk/list/auto_reply, any `List-*` header (mailing lists), Exchange's
  `X-Auto-Response-Suppress` and the older `X-Autoreply`/`X-Autorespond`, delivery reports
  (`multipart/report`) and mail from MAILER-DAEMON or postmaster.
- The portal's own mail coming back: our `X-Loop`, a From that is FROM_EMAIL or one of the
  support mailboxes, or a Message-ID the portal signed.

Checked before anything is written or answered. The caps per sender and per ticket (see
services) are the second line, for a responder that says none of this.
"""

from django.conf import settings

from portal.lib.emails import verify_message_id
from portal.mailin.parsing import ParsedMail

_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-archive")
_SYSTEM_SENDERS = ("mailer-daemon@", "postmaster@", "noreply@", "no-reply@")


def automatic_reason(parsed: ParsedMail) -> str:
    """Why this mail was sent by a program (and must not be answered), or ""."""
    auto = parsed.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = parsed.header("precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        if parsed.header(name):
            return "mailing-list mail"
    for name in ("x-auto-response-suppress", "x-autoreply", "x-autorespond"):
        if parsed.header(name):
            return f"{name} header"
    if parsed.content_type == "multipart/report":
        return "delivery or read report"
    if not parsed.sender or parsed.sender.startswith(_SYSTEM_SENDERS):
        return "system sender" if parsed.sender else "no sender"
    return ""


def own_mail_reason(parsed: ParsedMail, *, our_addresses: set[str]) -> str:
    """Why this is the portal's own mail coming back, or ""."""
    from_email = settings.FROM_EMAIL.lower()
    loops = parsed.header("x-loop").lower()
    if loops and from_email in loops:
        return "X-Loop names the portal"
    if parsed.sender in our_addresses | {from_email}:
        return "sent from the portal's own address"
    if parsed.message_id and verify_message_id(parsed.message_id) is not None:
        return "a Message-ID the portal signed"
    return ""
