"""Telling admins that mail, or an event's notifications, failed for good, once per burst
(not once per message).

A failed row alone sits in the delivery log where nobody looks; a notification per row
would bury admins during an outage of one recipient domain. So the first final failure
after a quiet spell of EMAIL_FAILURE_ALERT_QUIET_SECONDS tells every active admin (in the
portal and by email); the failures that follow it are in the log the alert links to.
"""

import datetime as dt

from django.conf import settings

from portal.accounts.triage import active_admins
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.models import EmailDelivery, PendingNotice
from portal.notifications.services import notify


def _quiet_spell() -> str:
    """EMAIL_FAILURE_ALERT_QUIET_SECONDS in words: "hour", "2 hours", "90 minutes"."""
    minutes = settings.EMAIL_FAILURE_ALERT_QUIET_SECONDS // 60
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "hour" if hours == 1 else f"{hours} hours"


MAIL_FAILED = Kind(
    name="mail_failed",
    label="Email that could not be delivered (admins)",
    email_template="notice",
    sample_context=lambda: {
        "text": "Email to someone@example.com could not be delivered",
        "body": "550 5.1.1 No such user here",
    },
)
register_kind(MAIL_FAILED)


def alert_failed_mail(*, delivery: EmailDelivery, error: str, now: dt.datetime) -> bool:
    """Tell the admins about `delivery` (just marked failed) unless this burst was told
    already; returns whether they were told."""
    quiet_since = now - dt.timedelta(seconds=settings.EMAIL_FAILURE_ALERT_QUIET_SECONDS)
    earlier = (
        EmailDelivery.objects.filter(
            status=EmailDelivery.Status.FAILED, claimed_at__gte=quiet_since
        )
        .exclude(pk=delivery.pk)
        .exists()
    )
    if earlier:
        return False
    admins = active_admins()
    text = f"Email to {delivery.to_address} could not be delivered"
    notify(
        recipients=admins,
        kind=MAIL_FAILED.name,
        text=text,
        link="/notifications/deliveries?status=failed",
        context={
            "text": text,
            "body": f"Subject: {delivery.subject or '(not written)'}\nError: {error}\n"
            f"Further failures in the next {_quiet_spell()} are listed in the email log, not "
            "announced.",
        },
        event_key=f"mail-failed:{delivery.pk}",
    )
    return True


NOTICE_FAILED = Kind(
    name="notice_failed",
    label="Notifications that could not be delivered (admins)",
    email_template="notice",
    sample_context=lambda: {
        "text": "A notification for 3 people could not be delivered",
        "body": "LookupError: Unknown notification kind 'ticket_moved': register it first.",
    },
    # Admins cannot mute it by email: the in-app copy may be the very thing failing.
    user_can_mute_email=False,
)
register_kind(NOTICE_FAILED)


def alert_failed_notice(*, notice: PendingNotice, now: dt.datetime) -> bool:
    """Tell the admins that `notice` (just kept as failed) told nobody, unless another
    notice failed within the quiet spell (EMAIL_FAILURE_ALERT_QUIET_SECONDS, the mail
    alerts' own): one alert per burst, the rest are in the delivery log it links to.
    Returns whether they were told."""
    quiet_since = now - dt.timedelta(seconds=settings.EMAIL_FAILURE_ALERT_QUIET_SECONDS)
    earlier = (
        PendingNotice.objects.filter(failed_at__gte=quiet_since).exclude(pk=notice.pk).exists()
    )
    if earlier:
        return False
    people = len({pk for message in notice.messages for pk in message["to"]})
    whom = f"{people} {'person' if people == 1 else 'people'}"
    text = f"A notification for {whom} could not be delivered"
    notify(
        recipients=active_admins(),
        kind=NOTICE_FAILED.name,
        text=text,
        link="/notifications/deliveries#notices",
        context={
            "text": text,
            "body": f"Kinds: {', '.join(sorted({m['kind'] for m in notice.messages}))}\n"
            f"Attempts: {notice.attempts}\nError: {notice.last_error}\n"
            "It is kept in the email log, where it can be retried or discarded. Further "
            f"failures in the next {_quiet_spell()} are listed there, not announced.",
        },
        event_key=f"notice-failed:{notice.pk}:{notice.attempts}",
    )
    return True
