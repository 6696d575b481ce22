"""Telling people things: decided in the caller's transaction (one pending notice per event),
delivered by the worker as in-app notifications and queued emails."""

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.db import router, transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.lib import compiled, inserts
from portal.lib.emails import (
    new_message_id,
    signed_message_id,
    signed_thread_id,
    verify_message_id,
)
from portal.lib.tasks import enqueue_with_data
from portal.notifications import rendering
from portal.notifications.kinds import Kind, get_kind
from portal.notifications.models import (
    EmailDelivery,
    EmailPreference,
    EmailSuppression,
    Notification,
    PendingNotice,
)
from portal.notifications.selectors import forget_unread_counts

log = logging.getLogger("portal.email")

# Set only inside `emails_paused()`: a context variable, so it covers the calling code and
# nothing else (no other request, thread or process), and it is gone when the block ends.
_emails_paused: ContextVar[bool] = ContextVar("emails_paused", default=False)


@contextmanager
def emails_paused() -> Iterator[None]:
    """Within the block, `notify` and `email_user` queue no email (in-app notifications
    are still written): for replaying history, such as the demo's weeks of past events,
    where an email about each would be a flood about things that happened long ago."""
    token = _emails_paused.set(True)
    try:
        yield
    finally:
        _emails_paused.reset(token)


def mail_domain() -> str:
    """The right-hand side of our Message-IDs: the sender's domain."""
    return settings.FROM_EMAIL.rpartition("@")[2] or "localhost"


def absolute_url(path: str) -> str:
    return urljoin(settings.APP_URL + "/", path.lstrip("/")) if path else settings.APP_URL


@dataclass(frozen=True)
class Message:
    """One message of an event: what `recipients` are told, in-app and by email.

    `event_key` must identify the event (e.g. `ticket:42:comment:7`): the outbox refuses a
    second message for the same key and address. `actor` (whoever caused the event) is
    never told. `thread_key` (e.g. `tkt-42`) threads every message about one thing under
    one signed root Message-ID (portal.lib.emails); `thread_tag` (e.g. `TKT-000042`) goes
    in front of the subject as `[TKT-000042]`, which mail clients keep in replies.
    """

    recipients: Iterable
    kind: str
    text: str
    link: str
    context: dict
    event_key: str
    actor: object = None
    thread_key: str | None = None
    thread_tag: str = ""
    in_app: bool = True


def notify(
    *,
    recipients: Iterable,
    kind: str,
    text: str,
    link: str,
    context: dict,
    event_key: str,
    actor=None,
    thread_key: str | None = None,
    thread_tag: str = "",
    in_app: bool = True,
) -> PendingNotice | None:
    """Tell `recipients` about an event, in-app and (by their preferences) by email.

    One `Message` through `notify_many`: the rules are the same (see there and `Message`).
    """
    message = Message(
        recipients=recipients,
        kind=kind,
        text=text,
        link=link,
        context=context,
        event_key=event_key,
        actor=actor,
        thread_key=thread_key,
        thread_tag=thread_tag,
        in_app=in_app,
    )
    return notify_many([message])


def notify_many(messages: Sequence[Message]) -> PendingNotice | None:
    """Tell each message's recipients about an event: decided now, delivered by the worker.

    Runs inside the caller's transaction and writes one row, the event's `PendingNotice`
    (who is told what), which commits or rolls back with the event. No task is queued for
    it: the worker's notice pump (`notice_services.notices_pump`, a thread of `run_worker`
    that looks every NOTICE_POLL_MS) finds it once it has committed and writes the in-app
    notifications and the outbox rows, within a second. Per message, the actor is never told,
    inactive users are skipped and each person is told once even if listed twice: decided
    here, with the event's facts. An unknown kind or an email context that is not plain
    JSON is refused here, in the event's own request. Returns the row (None when nobody
    is told)."""
    held = []
    for message in messages:
        kind = get_kind(message.kind)  # refuses an unknown kind now, not in the worker
        people = _distinct_active(message.recipients, exclude=message.actor)
        if not people:
            continue
        rendering.pending(message.context)  # plain JSON, or a TypeError in this request
        held.append(
            {
                "to": [user.pk for user in people],
                "kind": kind.name,
                "text": message.text[:300],
                "link": message.link,
                "context": message.context,
                "event_key": message.event_key,
                "thread_key": message.thread_key,
                "thread_tag": message.thread_tag,
                "in_app": message.in_app,
            }
        )
    if not held:
        return None
    notice = PendingNotice(messages=held, emails=not _emails_paused.get())
    inserts.insert([notice], using=router.db_for_write(PendingNotice))
    return notice


def email_user(*, user, kind: str, context: dict, event_key: str, link: str = "") -> None:
    """Queue an email that is not optional and has no in-app twin (e.g. a reset link)."""
    kind_def = get_kind(kind)
    if _emails_paused.get():
        return
    with transaction.atomic():
        delivery = delivery_for(user, kind_def, context, event_key, None, link)
        EmailDelivery.objects.bulk_create([delivery], ignore_conflicts=True)
        enqueue_deliveries([delivery.pk])


def email_address(
    *, to_address: str, kind: str, context: dict, event_key: str, in_reply_to: str = ""
) -> EmailDelivery | None:
    """Queue a message to an address that is no user's (e.g. the one answer to someone who
    wrote to a support mailbox without an account). `in_reply_to` threads it under the
    message it answers. Returns None when this event already has a message to this address."""
    kind_def = get_kind(kind)
    if _emails_paused.get():
        return None
    domain = mail_domain()
    pending = rendering.pending({**context, "to_address": to_address, "app_url": settings.APP_URL})
    with transaction.atomic():
        [delivery] = EmailDelivery.objects.bulk_create(
            [
                EmailDelivery(
                    recipient=None,
                    to_address=to_address,
                    kind=kind_def.name,
                    event_key=event_key[:200],
                    pending=pending,
                    message_id=new_message_id(domain),
                    thread_id=in_reply_to[:255],
                )
            ],
            ignore_conflicts=True,
        )
        exists = EmailDelivery.objects.filter(pk=delivery.pk).exists()
        if exists:
            enqueue_deliveries([delivery.pk])
    return delivery if exists else None


def email_bounced(
    *, address: str, permanent: bool, reason: str, message_ids: Iterable[str] = ()
) -> int:
    """A bounce reports mail to `address` failed; a permanent failure also suppresses the
    address (nothing more is sent to it until an admin removes the suppression).

    Which message failed: the one whose Message-ID the bounce quotes (`message_ids`, from
    the returned headers), when it is one the portal signed and was sent to `address`.
    A bounce that quotes only foreign ids was not about the portal's mail: nothing is
    marked. A bounce that quotes none (some servers do not) marks the latest message sent
    to the address. Returns the messages marked."""
    address = address.strip().lower()
    quoted = [mid for mid in message_ids if mid]
    ours = [mid for mid in quoted if verify_message_id(mid) is not None]
    sent = EmailDelivery.objects.filter(
        to_address__iexact=address, status=EmailDelivery.Status.SENT
    )
    with transaction.atomic():
        if ours:
            targets = list(sent.filter(message_id__in=ours).values_list("pk", flat=True))
        elif quoted:
            targets = []
        else:
            targets = list(sent.order_by("-sent_at").values_list("pk", flat=True)[:1])
        marked = EmailDelivery.objects.filter(pk__in=targets).update(
            status=EmailDelivery.Status.FAILED, last_error=f"Bounced: {reason}"[:2000]
        )
        if permanent:
            EmailSuppression.objects.get_or_create(
                address=address, defaults={"reason": reason[:500]}
            )
    log.info("email bounced", extra={"permanent": permanent, "marked": marked})
    return marked


def notification_mark_read(*, user, notification_id: int) -> bool:
    updated = Notification.objects.filter(
        pk=notification_id, recipient=user, read_at__isnull=True
    ).update(read_at=timezone.now())
    if updated:
        forget_unread_counts([user.pk])
    return bool(updated)


def notifications_mark_all_read(*, user) -> int:
    updated = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    forget_unread_counts([user.pk])
    return updated


def email_preferences_set(*, user, choices: dict[str, bool]) -> None:
    with transaction.atomic():
        for kind, email in choices.items():
            get_kind(kind)  # refuses unknown kinds
            EmailPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email}
            )


def delivery_retry(*, delivery: EmailDelivery, actor) -> None:
    """An admin asks for another attempt now (failed or waiting for its next try)."""
    with transaction.atomic():
        EmailDelivery.objects.filter(
            pk=delivery.pk,
            status__in=[EmailDelivery.Status.FAILED, EmailDelivery.Status.QUEUED],
        ).update(status=EmailDelivery.Status.QUEUED, next_attempt_at=timezone.now())
        enqueue_deliveries([delivery.pk])
    log.info("delivery retry requested", extra={"delivery": str(delivery.pk), "actor": actor.pk})


def _distinct_active(recipients: Iterable, *, exclude) -> list:
    seen: dict[int, object] = {}
    exclude_id = getattr(exclude, "pk", None)
    for user in recipients:
        if user is None or not user.is_active or user.pk == exclude_id or user.pk in seen:
            continue
        seen[user.pk] = user
    return list(seen.values())


def wants_email(people: list[list], kinds: list[Kind]) -> Callable[[int, Kind], bool]:
    """Whether a person wants a kind by email: one query for every person and kind of the
    batch (none when no kind can be muted); no row is the kind's default."""
    mutable = {kind.name for kind in kinds if kind.user_can_mute_email}
    asked = {
        user.pk
        for group, kind in zip(people, kinds, strict=True)
        if kind.name in mutable
        for user in group
    }
    chosen: dict[tuple[int, str], bool] = {}
    if asked:
        users, names = sorted(asked), sorted(mutable)
        # Compiled once per process and number of people and kinds (portal.lib.compiled);
        # `email` is a boolean, which SQLite gives as 0/1.
        chosen = {
            (user_id, kind): bool(email)
            for user_id, kind, email in compiled.rows(
                f"notifications.preferences.{len(users)}",
                lambda *values: _preferences(values[: len(users)], values[len(users) :]),
                [*users, *names],
                using=router.db_for_read(EmailPreference),
            )
        }

    def wants(user_id: int, kind: Kind) -> bool:
        if not kind.user_can_mute_email:
            return True
        return chosen.get((user_id, kind.name), kind.email_by_default)

    return wants


def _preferences(user_ids: Sequence[int], kinds: Sequence[str]):
    return EmailPreference.objects.filter(user__in=user_ids, kind__in=kinds).values_list(
        "user_id", "kind", "email"
    )


def delivery_for(
    user: User,
    kind: Kind,
    context: dict[str, Any],
    event_key: str,
    thread_key: str | None,
    link: str,
    thread_tag: str = "",
) -> EmailDelivery:
    """The outbox row of one message to `user`; the worker renders it (`rendering`)."""
    domain = mail_domain()
    event_key = event_key[:200]
    return EmailDelivery(
        recipient=user,
        to_address=user.email,
        kind=kind.name,
        event_key=event_key,
        pending=rendering.pending(
            {**context, "link_url": absolute_url(link), "app_url": settings.APP_URL},
            subject_tag=thread_tag,
        ),
        message_id=(
            signed_message_id(thread_key, event_key=event_key, recipient_id=user.pk, domain=domain)
            if thread_key
            else new_message_id(domain)
        ),
        thread_id=signed_thread_id(thread_key, domain) if thread_key else "",
    )


def enqueue_deliveries(delivery_ids: list) -> None:
    """The task exists if and only if the deliveries do (written in this transaction with
    the database backend, sent on commit with Redis). The periodic sweep is the safety net."""
    from portal.notifications.tasks import deliver_emails

    enqueue_with_data(deliver_emails, [str(pk) for pk in delivery_ids])
