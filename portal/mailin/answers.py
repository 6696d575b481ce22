"""The answers email in sends: kinds registered with the notifications app.

Both are answers to a person's own mail, never to a program's (loops.py filters those
first), and both go out through the outbox like every other message (Auto-Submitted,
X-Loop, retries).
"""

from portal.accounts.triage import active_admins, triage_admins
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import email_address, email_user, notify

UNKNOWN_SENDER = "mailin_unknown_sender"
FILES_REFUSED = "mailin_files_refused"
MAILBOX_FAILING = "mailin_mailbox_failing"
REJECTED = "mailin_rejected"
TRIAGE = "mailin_triage"


def _unknown_sample() -> dict:
    return {
        "subject": "Printer on floor 3",
        "mailbox_address": "support@example.com",
        "to_address": "someone@example.org",
    }


def _refused_sample() -> dict:
    return {
        "number": "TKT-000123",
        "subject": "Printer on floor 3",
        "refused": ["setup.exe: Files ending in .exe are not accepted."],
    }


register_kind(
    Kind(
        UNKNOWN_SENDER,
        "Answer to mail from an address with no account",
        UNKNOWN_SENDER,
        _unknown_sample,
        user_can_mute_email=False,
    )
)
register_kind(
    Kind(
        FILES_REFUSED,
        "Files in my email that were not accepted",
        FILES_REFUSED,
        _refused_sample,
        user_can_mute_email=False,
    )
)


register_kind(
    Kind(
        MAILBOX_FAILING,
        "A support mailbox cannot be read (admins)",
        "notice",
        lambda: {
            "text": "The mailbox support@example.com cannot be read",
            "body": "LoginError: authentication failed",
        },
    )
)


register_kind(
    Kind(
        REJECTED,
        "My email could not be turned into a ticket",
        REJECTED,
        lambda: {
            "subject": "Printer on floor 3",
            "reason": "The message is 41943040 bytes; the limit is 31457280.",
        },
        user_can_mute_email=False,
    )
)


register_kind(
    Kind(
        TRIAGE,
        "Mail waiting in the triage queue (admins on triage duty)",
        "notice",
        lambda: {
            "text": "Mail to triage from someone@example.com: Printer on floor 3",
            "body": "It jams on every second page.",
        },
    )
)


def tell_triage(*, message) -> None:
    """A mail waits in the triage queue: the admins on triage duty are told (every active
    admin when nobody is on duty, so the mail still reaches a person who can classify it)."""
    recipients = list(triage_admins()) or list(active_admins())
    text = f"Mail to triage from {message.sender}: {message.subject or '(no subject)'}"
    notify(
        recipients=recipients,
        kind=TRIAGE,
        text=text[:200],
        link="/mailboxes/triage",
        context={"text": text, "body": message.detail},
        event_key=f"mailin:{message.pk}:triage",
    )


def tell_rejected(*, user, message, reason: str) -> None:
    """The person's mail was refused whole (too large, no text, refused by the ticket
    rules): say why, once per message, so it is not silently lost."""
    email_user(
        user=user,
        kind=REJECTED,
        context={"subject": message.subject or "(no subject)", "reason": reason},
        event_key=f"mailin:{message.pk}:rejected",
        link="/tickets/new",
    )


def tell_admins_mailbox_failing(*, mailbox, error: str, now) -> None:
    admins = active_admins()
    text = f"The mailbox {mailbox.address} cannot be read"
    notify(
        recipients=admins,
        kind=MAILBOX_FAILING,
        text=text,
        link=f"/admin/mailin/mailbox/{mailbox.pk}/change/",
        context={
            "text": text,
            "body": f"{mailbox.failures_in_a_row} polls in a row failed. Last error: {error}\n"
            "Mail waits on the server and is read when the mailbox works again; you are "
            "told once per outage.",
        },
        event_key=f"mailin:mailbox:{mailbox.pk}:failing:{now.isoformat()}",
    )


def answer_unknown_sender(*, message, mailbox, in_reply_to: str) -> bool:
    """Queue the one polite answer; False when it was already sent for this message."""
    delivery = email_address(
        to_address=message.sender,
        kind=UNKNOWN_SENDER,
        context={"subject": message.subject, "mailbox_address": mailbox.address},
        event_key=f"mailin:{message.pk}:unknown_sender",
        in_reply_to=in_reply_to,
    )
    return delivery is not None


def tell_files_refused(*, user, ticket, message, refused: list[str]) -> None:
    email_user(
        user=user,
        kind=FILES_REFUSED,
        context={"number": ticket.number, "subject": message.subject, "refused": refused},
        event_key=f"mailin:{message.pk}:files_refused",
        link=ticket.get_absolute_url(),
    )
