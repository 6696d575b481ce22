"""Email in's writes: turning one read message into a ticket or a comment, exactly once.

`inbound_message_process` is called by the poller for each message it fetched, with no
database transaction open (attachments are stored first, then one short transaction writes
the ticket or comment, its files, its history, its notifications and the ledger row).
What it decides, in order:

1. already read: the ledger has this (mailbox, UIDVALIDITY, UID) → nothing to do;
2. duplicate: a message with the same content hash (sender, date, subject, body, files)
   already made a ticket or comment → recorded as a duplicate;
3. not for answering: the portal's own mail, or mail sent by a program (loops.py);
4. caps: a sender (or a ticket) over its hourly limit of mail → held back, unanswered;
5. matching (matching.py): a reply becomes a comment by its sender, when the sender may
   comment; anything else from a known, active user raises a ticket routed like one raised
   on the page; a sender with no account gets one polite answer a day (or none, by the
   mailbox's choice).

Every message gets one ledger row, whatever became of it, in the transaction that wrote
what it made. Unique constraints on that row make a second ticket or comment impossible
even when two pollers, a retry after a crash, or the same mail in two mailboxes race.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.selectors import active_user_by_email
from portal.accounts.services import user_create
from portal.attachments.models import PendingObject
from portal.attachments.validation import UploadRefused, validate_upload
from portal.catalog.models import BusinessUnitGroup, Category, Subcategory
from portal.mailin import answers, loops, matching, rawmail, senders
from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.parsing import MailFile, ParsedMail, parse
from portal.mailin.quotes import strip_quoted
from portal.notifications.services import email_bounced
from portal.tickets import access
from portal.tickets import services as ticket_services
from portal.tickets.attachment_services import (
    comment_add_with_files,
    max_per_ticket,
    ticket_create_with_files,
)
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketClosed
from portal.tickets.services import BODY_MAX, TITLE_MAX

log = logging.getLogger("portal.mailin")
Outcome = InboundMessage.Outcome
TRIAGE_EXCERPT = 600  # characters of a triage mail's text shown in the queue
_REPLY_PREFIXES = ("re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "tr:", "rv:", "antw:")


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _our_addresses() -> set[str]:
    """The portal's own mailbox addresses, lower-cased: mail from one of them is a loop."""
    return {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}


def inbound_message_process(
    *, mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes, now: dt.datetime | None = None
) -> InboundMessage:
    """Process one message (see the module docstring); returns its ledger row."""
    now = now or timezone.now()
    position = {"mailbox": mailbox, "uidvalidity": uidvalidity, "uid": uid}
    done = InboundMessage.objects.filter(**position).first()
    if done is not None:
        return done
    parsed = parse(raw)
    row = InboundMessage(
        **position,
        message_id=parsed.message_id[:255],
        content_hash=parsed.content_hash,
        sender=parsed.sender[:254],
        subject=parsed.subject[:255],
        received_at=now,
    )
    try:
        return _process(row, parsed, mailbox, now, raw)
    except IntegrityError:
        # Someone recorded this position or this content meanwhile: read what they did.
        done = InboundMessage.objects.filter(**position).first()
        if done is not None:
            return done
        row.raw_key, row.raw_sha256, row.raw_size = "", "", 0  # that copy was deleted
        return _record(row, Outcome.DUPLICATE, "Read at the same time from elsewhere.")


def inbound_message_failed(
    *, mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes, error: BaseException
) -> InboundMessage:
    """Record a message the processing could not handle (kept in the processed folder)."""
    import hashlib

    row = InboundMessage(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        content_hash=hashlib.sha256(raw).hexdigest(),
        received_at=timezone.now(),
    )
    return _record(row, Outcome.REJECTED, f"{error.__class__.__name__}: {error}")


def inbound_message_too_large(
    *, mailbox: Mailbox, uidvalidity: int, uid: int, headers: bytes, size: int, limit: int
) -> InboundMessage:
    """Record a message over INBOUND_MAX_MESSAGE_BYTES, read no further than its headers
    (it stays in the processed folder for an admin to look at)."""
    import hashlib

    parsed = parse(headers)
    row = InboundMessage(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=parsed.message_id[:255],
        content_hash=hashlib.sha256(headers).hexdigest(),
        sender=parsed.sender[:254],
        subject=parsed.subject[:255],
        received_at=timezone.now(),
    )
    reason = f"The message is {size} bytes; the limit is {limit}."
    return _refuse(row, parsed, reason, user=_answerable_sender(parsed))


def _process(
    row: InboundMessage, parsed: ParsedMail, mailbox: Mailbox, now, raw: bytes
) -> InboundMessage:
    if _hash_written(row.content_hash):
        return _record(row, Outcome.DUPLICATE, "The same message was read before.")
    if reason := loops.own_mail_reason(parsed, our_addresses=_our_addresses()):
        return _record(row, Outcome.LOOP, reason)
    if parsed.is_bounce:
        return _bounce(row, parsed)
    if reason := loops.automatic_reason(parsed):
        return _record(row, Outcome.AUTO_REPLY, reason)
    if _sender_over_cap(parsed.sender, now):
        return _record(row, Outcome.CAPPED, "The sender is over the hourly limit of mail.")
    user = active_user_by_email(parsed.sender)
    match = matching.find_ticket(parsed, sender_user=user)
    created = False
    if user is None and match is None and senders.domain_allowed(mailbox, parsed.sender):
        user = _requester_account(parsed)
        created = user is not None
    if user is None:
        return _unknown_sender(row, parsed, mailbox, match, now)
    # From here the message may write: it is kept as read (rawmail), linked from its row.
    with rawmail.kept(row, raw):
        if match is not None:
            return _reply(row, parsed, mailbox, user, match, now)
        return _new_ticket(row, parsed, mailbox, user, account_created=created)


def _requester_account(parsed: ParsedMail):
    """A requester account for a sender of an allowed domain (senders.py); None when the
    address is not valid or belongs to a deactivated account (never revived by mail)."""
    User = get_user_model()
    try:
        validate_email(parsed.sender)
    except ValidationError:
        return None
    if User.objects.filter(email__iexact=parsed.sender).exists():
        return None
    name = parsed.sender_name or parsed.sender.split("@", 1)[0]
    try:
        return user_create(email=parsed.sender, full_name=name[:150], password=None)
    except IntegrityError:  # made meanwhile by another poller
        return active_user_by_email(parsed.sender)


def _hash_written(content_hash: str) -> bool:
    return InboundMessage.objects.filter(
        content_hash=content_hash, outcome__in=InboundMessage.WROTE
    ).exists()


def _bounce(row: InboundMessage, parsed: ParsedMail) -> InboundMessage:
    """Mark what the bounce reports (never answered): a permanent failure suppresses the
    address, so the outbox stops sending to it."""
    reason = f"bounce from {parsed.sender or 'an unknown sender'}"
    with transaction.atomic():
        marked = 0
        for address in parsed.bounced_permanent:
            marked += email_bounced(
                address=address, permanent=True, reason=f"{reason} (permanent)",
                message_ids=parsed.bounced_message_ids,
            )  # fmt: skip
        for address in parsed.bounced_temporary:
            marked += email_bounced(
                address=address, permanent=False, reason=f"{reason} (temporary)",
                message_ids=parsed.bounced_message_ids,
            )  # fmt: skip
        detail = "; ".join(
            f"{kind}: {', '.join(addresses)}"
            for kind, addresses in (
                ("permanent", parsed.bounced_permanent),
                ("temporary", parsed.bounced_temporary),
            )
            if addresses
        )
        return _record(row, Outcome.BOUNCE, f"{detail}; {marked} sent message(s) marked failed")


def _sender_over_cap(sender: str, now) -> bool:
    limit = _setting("INBOUND_SENDER_LIMIT_PER_HOUR", 30)
    recent = InboundMessage.objects.filter(
        sender=sender, received_at__gte=now - dt.timedelta(hours=1)
    ).count()
    return recent >= limit


def _ticket_over_cap(ticket, now) -> bool:
    limit = _setting("INBOUND_TICKET_LIMIT_PER_HOUR", 20)
    recent = InboundMessage.objects.filter(
        ticket=ticket, outcome=Outcome.COMMENT, received_at__gte=now - dt.timedelta(hours=1)
    ).count()
    return recent >= limit


def _record(row: InboundMessage, outcome: str, detail: str = "", **links) -> InboundMessage:
    row.outcome, row.detail = outcome, detail[:2000]
    for name, value in links.items():
        setattr(row, name, value)
    with transaction.atomic():
        if row.pk is None:
            row.save(force_insert=True)
        else:  # a mail from the triage queue, classified: its row says what it became
            row.save(update_fields=["outcome", "detail", *links])
        if row.raw_key:  # the stored copy is referred to now: off the pending ledger
            PendingObject.objects.filter(key=row.raw_key).delete()
    log.info(
        "inbound mail",
        extra={"mailbox": row.mailbox_id, "uid": row.uid, "outcome": outcome, "detail": detail},
    )
    return row


def _refuse(row, parsed, reason: str, *, user, ticket=None) -> InboundMessage:
    """Record a message refused whole (nothing of it written) and, when it came from a
    person with an account, tell them why in the same transaction: the email
    equivalent of a 4xx answer."""
    with transaction.atomic():
        row = _record(row, Outcome.REJECTED, reason, ticket=ticket)
        if user is not None:
            answers.tell_rejected(user=user, message=row, reason=reason)
            row.answered = True
            row.save(update_fields=["answered"])
    return row


def _answerable_sender(parsed: ParsedMail):
    """The active user who sent this, unless it is automatic or the portal's own mail
    (those are never answered); None otherwise."""
    if loops.automatic_reason(parsed) or loops.own_mail_reason(
        parsed, our_addresses=_our_addresses()
    ):
        return None
    return active_user_by_email(parsed.sender)


def _unknown_sender(row, parsed, mailbox, match, now) -> InboundMessage:
    if match is not None:
        # A reply on a thread from an address with no account: never a comment.
        return _record(row, Outcome.NO_ACCESS, "The sender has no account.", ticket=None)
    if mailbox.unknown_senders == Mailbox.UnknownSenders.REFUSE:
        return _record(row, Outcome.UNKNOWN_SENDER, "No account; this mailbox does not answer.")
    window = now - dt.timedelta(hours=_setting("INBOUND_UNKNOWN_REPLY_HOURS", 24))
    answered = InboundMessage.objects.filter(
        sender=row.sender, answered=True, received_at__gte=window
    ).exists()
    with transaction.atomic():
        row = _record(row, Outcome.UNKNOWN_SENDER, "No account with this address.")
        if not answered:
            row.answered = answers.answer_unknown_sender(
                message=row, mailbox=mailbox, in_reply_to=parsed.message_id
            )
            row.save(update_fields=["answered"])
    return row


def _reply(row, parsed, mailbox, user, match, now) -> InboundMessage:
    ticket = match.ticket
    if _ticket_over_cap(ticket, now):
        return _record(row, Outcome.CAPPED, f"{ticket.number} is over its hourly limit of mail.")
    if not access.can_comment(user, ticket):
        return _unverified_note(row, parsed, user, ticket)
    internal = access.can_comment_internal(user, ticket) and matching.answers_internal_note(match)
    files, refused = _checked_files(parsed.files)
    body = strip_quoted(parsed.text)
    if not body and files:
        body = "(Files sent by email.)"
    body = _with_refusals(body, refused)
    if not body.strip():
        return _refuse(row, parsed, "The reply has no text.", user=user, ticket=ticket)

    def record(outcome) -> None:
        _record(row, Outcome.COMMENT, f"matched by {match.how}", ticket=ticket,
                comment=outcome.comment)  # fmt: skip
        if refused:
            answers.tell_files_refused(user=user, ticket=ticket, message=row, refused=refused)

    try:
        comment_add_with_files(
            actor=user, ticket=ticket, body=_clip(body), internal=internal, files=files,
            skip_refused=True, record=record,
        )  # fmt: skip
    except TicketClosed:
        return _new_ticket(row, parsed, mailbox, user, follow_up=ticket)
    except ActionForbidden as exc:
        return _record(row, Outcome.NO_ACCESS, str(exc), ticket=ticket)
    except InvalidInput as exc:
        return _refuse(row, parsed, str(exc), user=user, ticket=ticket)
    return row


def _unverified_note(row, parsed, user, ticket) -> InboundMessage:
    """A reply from someone with an account who cannot see the ticket (it was forwarded to
    them): an internal note for the people working it, marked unverified, never public.
    Its files are not taken (the note says so)."""
    body = strip_quoted(parsed.text) or "(No text.)"
    if parsed.files:
        body += f"\n\n({len(parsed.files)} file(s) in the email were not taken.)"
    note = f"**Unverified email from {user.email}**, who cannot see this ticket:\n\n{body}"
    with transaction.atomic():
        comment = ticket_services.comment_add_unverified(
            author=user, ticket=ticket, body=_clip(note), source="email"
        )
        return _record(
            row, Outcome.NOTE, f"The sender cannot see {ticket.number}.",
            ticket=ticket, comment=comment,
        )  # fmt: skip


def _new_ticket(
    row, parsed, mailbox, user, follow_up=None, account_created=False
) -> InboundMessage:
    """A new ticket in the mailbox's classification; a triage mailbox's mail waits in the
    triage queue instead (its follow-up to a closed ticket keeps that ticket's one)."""
    if mailbox.target != Mailbox.Target.TRIAGE:
        group = _active(BusinessUnitGroup, mailbox.group_id)
        category = _active(Category, mailbox.category_id)
        subcategory = _active(Subcategory, mailbox.subcategory_id)
    elif follow_up is not None:
        group, category, subcategory = (
            follow_up.group, follow_up.category, follow_up.subcategory
        )  # fmt: skip
    else:
        return _to_triage(row, parsed)
    how = "new ticket (requester account created)" if account_created else "new ticket"
    try:
        return raise_ticket(
            row, parsed, user, group=group, category=category, subcategory=subcategory,
            how=how, follow_up=follow_up,
        )  # fmt: skip
    except InvalidInput as exc:
        return _refuse(row, parsed, str(exc), user=user)


def raise_ticket(
    row, parsed, user, *, group, category, subcategory, how: str, follow_up=None,
    before_record=None, decided_by=None,
) -> InboundMessage:  # fmt: skip
    """Raise the ticket a message makes, in the given classification, with its files; the
    ledger row is written (or, for a mail from the triage queue, changed) in the ticket's
    transaction. `before_record` runs first in that transaction (the triage queue locks its
    row there; `decided_by` is its admin). InvalidInput (a classification no longer in use)
    writes nothing."""
    files, refused = _checked_files(parsed.files)
    description = parsed.text.strip() or "(The email had no text.)"
    if follow_up is not None:
        description = f"Follow-up to {follow_up.number} (closed), sent by email.\n\n{description}"
    description = _with_refusals(description, refused)

    def record(outcome) -> None:
        if before_record is not None:
            before_record()
        decided = {"decided_by": decided_by} if decided_by is not None else {}
        _record(row, Outcome.TICKET, how, ticket=outcome.ticket, **decided)
        if refused:
            answers.tell_files_refused(
                user=user, ticket=outcome.ticket, message=row, refused=refused
            )

    ticket_create_with_files(
        requester=user,
        files=files,
        skip_refused=True,
        record=record,
        title=ticket_title(parsed),
        description=_clip(description),
        group=group,
        category=category,
        subcategory=subcategory,
    )
    return row


def _to_triage(row, parsed) -> InboundMessage:
    """A mail to a triage mailbox: kept (rawmail) and queued for the admins on triage duty,
    who are told; the ticket is raised when one of them classifies it (triage.py). The
    row's detail holds the start of the text, for the queue's page."""
    excerpt = " ".join(parsed.text.split())[:TRIAGE_EXCERPT] or "(The email had no text.)"
    with transaction.atomic():
        row = _record(row, Outcome.TRIAGE, excerpt)
        answers.tell_triage(message=row)
    return row


def _active(model, pk):
    return model.objects.filter(pk=pk).first() if pk else None


def ticket_title(parsed: ParsedMail) -> str:
    """The subject without "Re:"/"Fwd:" prefixes and ticket tags; never empty."""
    subject = matching._TAG.sub("", parsed.subject).strip()
    while subject.lower().startswith(_REPLY_PREFIXES):
        subject = subject.split(":", 1)[1].strip()
    subject = subject or f"Email from {parsed.sender_name or parsed.sender}"
    return subject[:TITLE_MAX]


def _checked_files(files: list[MailFile]) -> tuple[list[MailFile], list[str]]:
    """The files that pass the upload checks, and a line per refused one ("name: why").
    Checked here too (the service checks again) so the text can say what was left out."""
    accepted: list[MailFile] = []
    refused: list[str] = []
    limit = max_per_ticket()
    for item in files:
        try:
            validate_upload(item.name, item).close()
        except UploadRefused as refusal:
            refused.append(str(refusal))
            continue
        finally:
            item.seek(0)
        if len(accepted) >= limit:
            refused.append(f"{item.name}: more than {limit} files in one email.")
            continue
        accepted.append(item)
    return accepted, refused


def _with_refusals(text: str, refused: list[str]) -> str:
    if not refused:
        return text
    lines = "\n".join(f"- {line}" for line in refused)
    return f"{text}\n\n---\nFiles in the email that were not accepted:\n{lines}"


def _clip(text: str) -> str:
    if len(text) <= BODY_MAX:
        return text
    note = "\n\n[The rest of the email was longer than a ticket holds.]"
    return text[: BODY_MAX - len(note)] + note


# --- Mailboxes ---------------------------------------------------------------------------


def mailbox_checkpoint(*, mailbox: Mailbox, uidvalidity: int, last_uid: int) -> None:
    """Remember how far the folder was read; a new UIDVALIDITY starts the count again."""
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=last_uid)
    mailbox.uidvalidity, mailbox.last_uid = uidvalidity, last_uid


def mailbox_token_store(*, mailbox: Mailbox, token: str, expires_at: dt.datetime) -> None:
    """Keep a Microsoft 365 access token (encrypted) and its expiry for the next polls."""
    mailbox.access_token, mailbox.token_expires_at = token, expires_at
    mailbox.save(update_fields=["access_token", "token_expires_at"])


def mailbox_token_forget(*, mailbox: Mailbox) -> None:
    """The server refused the token: the next poll asks for a new one."""
    mailbox.access_token, mailbox.token_expires_at = "", None
    mailbox.save(update_fields=["access_token", "token_expires_at"])


def mailbox_poll_succeeded(*, mailbox: Mailbox, now: dt.datetime) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now, last_success_at=now, failures_in_a_row=0
    )


def mailbox_poll_failed(*, mailbox: Mailbox, error: str, now: dt.datetime) -> bool:
    """Record a failed poll; the admins are told once per outage, when the failures in a row
    reach INBOUND_ALERT_AFTER_FAILURES (a single dropped connection tells nobody, and an
    outage of a day tells them once, not every minute). Returns whether they were told."""
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        locked.failures_in_a_row += 1
        locked.last_polled_at, locked.last_error_at = now, now
        locked.last_error = error[:2000]
        locked.save(
            update_fields=["failures_in_a_row", "last_polled_at", "last_error_at", "last_error"]
        )
        mailbox.failures_in_a_row = locked.failures_in_a_row
        if locked.failures_in_a_row != _setting("INBOUND_ALERT_AFTER_FAILURES", 3):
            return False
        answers.tell_admins_mailbox_failing(mailbox=locked, error=error, now=now)
    return True


def mailbox_sync_from_env() -> Mailbox | None:
    """The mailbox INBOUND_IMAP_* describes, created or brought in step; None when unset.

    Its group and category are looked up by code and name; a setting that names none is a
    configuration error, raised so the poller's health record shows it."""
    conf = getattr(settings, "INBOUND_IMAP", None) or {}
    if not conf.get("HOST"):
        return None
    target = conf.get("TARGET") or Mailbox.Target.CLASSIFICATION
    group = category = None
    if target == Mailbox.Target.CLASSIFICATION:
        group = BusinessUnitGroup.objects.filter(code__iexact=conf["GROUP"]).first()
        category = (
            Category.objects.filter(group=group, name__iexact=conf["CATEGORY"]).first()
            if group
            else None
        )
        if group is None or category is None:
            raise InvalidInput(
                "INBOUND_IMAP_GROUP and INBOUND_IMAP_CATEGORY must name an existing business "
                f"unit group (by code) and one of its categories; got {conf['GROUP']!r} and "
                f"{conf['CATEGORY']!r} (or set INBOUND_IMAP_TARGET=triage)."
            )
    address = (conf.get("ADDRESS") or conf["USER"]).lower()
    values = {
        "name": conf.get("NAME") or address,
        "host": conf["HOST"],
        "port": conf["PORT"],
        "security": conf["SECURITY"],
        "username": conf["USER"],
        "password": conf["PASSWORD"],
        "folder": conf["FOLDER"],
        "processed_folder": conf["PROCESSED_FOLDER"],
        "target": target,
        "group": group,
        "category": category,
        "unknown_senders": conf["UNKNOWN_SENDERS"],
        "allowed_domains": conf.get("ALLOWED_DOMAINS", ""),
        "auth": conf.get("AUTH") or Mailbox.Auth.PASSWORD,
        "oauth_tenant": conf.get("OAUTH_TENANT", ""),
        "oauth_client_id": conf.get("OAUTH_CLIENT_ID", ""),
        "oauth_client_secret": conf.get("OAUTH_CLIENT_SECRET", ""),
        "from_env": True,
    }
    if target == Mailbox.Target.TRIAGE:
        values["subcategory"] = None  # a triage mailbox has no classification at all
    with transaction.atomic():
        mailbox, _ = Mailbox.objects.update_or_create(address=address, defaults=values)
    return mailbox


def mailbox_secrets_reencrypt() -> int:
    """Read every mailbox's secrets (with SECRET_KEY or a fallback) and store them again
    encrypted with the current SECRET_KEY. Returns the mailboxes rewritten."""
    secrets = ["password", "oauth_client_secret", "access_token"]
    count = 0
    with transaction.atomic():
        for mailbox in Mailbox.objects.select_for_update().only("pk", *secrets):
            mailbox.save(update_fields=secrets)
            count += 1
    return count


# IMAP IDLE (portal/mailin/watcher.py): the lease that keeps a mailbox to one watcher.

RFC_2177_LIMIT = 29 * 60


def idle_seconds() -> int:
    return max(1, min(int(getattr(settings, "INBOUND_IDLE_SECONDS", 600)), RFC_2177_LIMIT))


def lease_length() -> dt.timedelta:
    """One IDLE cycle plus the time a stuck read can take: renewed well before it ends."""
    timeout = int(getattr(settings, "INBOUND_IMAP_TIMEOUT", 30))
    return dt.timedelta(seconds=idle_seconds() + max(60, 2 * timeout))


def mailbox_watch_claim(mailbox_pk: int, owner: str, *, now: dt.datetime | None = None) -> bool:
    """Take (or renew) the lease on an active IMAP mailbox; False when another process
    holds it or the mailbox was switched off (or takes its mail by webhook)."""
    now = now or timezone.now()
    free = Q(watched_until__isnull=True) | Q(watched_until__lte=now) | Q(watched_by=owner)
    return (
        Mailbox.objects.filter(
            free, pk=mailbox_pk, is_active=True, transport=Mailbox.Transport.IMAP
        ).update(watched_by=owner, watched_until=now + lease_length())
        == 1
    )


def mailbox_watch_release(mailbox_pk: int, owner: str) -> None:
    Mailbox.objects.filter(pk=mailbox_pk, watched_by=owner).update(
        watched_by="", watched_until=None
    )
