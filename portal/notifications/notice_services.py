"""Delivering pending notices: the worker's side of `services.notify_many`.

An event's transaction writes one `PendingNotice`; here the worker turns it into in-app
notifications and outbox rows and deletes it (`notices_expand`). The worker's notice
pump (`notices_pump`, a thread of `run_worker`) looks for committed notices every
NOTICE_POLL_MS, so an event needs no task row of its own: that row was about 5 % of
raising a ticket (docs/benchmarks.md, issue 26). A notice that fails is tried again with
a doubling wait, and after
NOTICE_MAX_ATTEMPTS failures it is kept as failed: the sweep leaves it, the admins are
told (once per burst), `/healthz` reports it, and the delivery log lists it with "Retry
now" and "Discard" (`notice_retry`, `notice_discard`). Nobody's notice fails silently, and
none is retried every 30 seconds for ever.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from portal.lib import inserts
from portal.notifications.kinds import get_kind
from portal.notifications.models import EmailDelivery, Notification, PendingNotice
from portal.notifications.selectors import forget_unread_counts

# The outbox rows and their task are made as `notify_many` and `email_user` make them:
# one definition each.
from portal.notifications.services import delivery_for, enqueue_deliveries, wants_email

log = logging.getLogger("portal.email")

# A notice older than this is the periodic sweep's: the pumps missed it (every worker's
# pump stopped, say). Younger ones are left to the pumps, which look every NOTICE_POLL_MS.
SWEEP_AFTER = dt.timedelta(seconds=10)
# How many notices one look of the pump takes; it looks again at once while it finds some.
PUMP_BATCH = 100


class NoticeNotDelivered(Exception):
    """Some pending notices could not be expanded; they stay, with a wait, for a later try."""

    def __init__(self, message: str, counts: dict[str, int]):
        super().__init__(message)
        self.counts = counts


def notices_expand(notice_ids: Iterable[int]) -> dict[str, int]:
    """Deliver pending notices (the worker's task, the sweep, tests): per row, in one
    transaction, claim it (`skip_locked`: a row another worker is expanding is left to
    it), write its notifications and outbox rows, queue their mail and delete it. A row
    already expanded, or kept as failed, is skipped, so running this twice (two workers, a
    task and the sweep) tells nobody twice. A row that fails stays, counted and with its
    error, for a later sweep (`_record_failure`); the failures are raised after the others
    are delivered (`NoticeNotDelivered`), so the task is reported failed like any other."""
    counts = {"expanded": 0, "failed": 0}
    failures: list[Exception] = []
    for pk in notice_ids:
        try:
            with transaction.atomic():
                notice = _claim(pk)
                if notice is None:
                    continue  # delivered already, being delivered, or kept as failed
                _deliver(notice)
        except Exception as error:  # one bad row must not stop the others
            log.exception("pending notice not delivered", extra={"notice": pk})
            try:
                _record_failure(pk, f"{type(error).__name__}: {error}", now=timezone.now())
            except Exception:  # nor may failing to record one stop the others
                log.exception("pending notice failure not recorded", extra={"notice": pk})
            counts["failed"] += 1
            failures.append(error)
        else:
            counts["expanded"] += 1
    if failures:
        raise NoticeNotDelivered(f"{len(failures)} pending notice(s) failed", counts) from failures[
            0
        ]
    return counts


def _claim(pk: int) -> PendingNotice | None:
    """The notice, deleted in the open transaction (its rows are written in the same one),
    or None when it is gone, kept as failed, or another worker holds it. PostgreSQL: the
    row lock is taken without waiting (`skip_locked`). The delete is the claim on every
    backend: only one transaction can delete the row, so SQLite (no row locks) cannot
    deliver it twice."""
    notice = (
        PendingNotice.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, failed_at__isnull=True)
        .first()
    )
    if notice is None:
        return None
    deleted, _ = PendingNotice.objects.filter(pk=pk).delete()
    return notice if deleted else None


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: the base, doubling, capped."""
    seconds = settings.NOTICE_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.NOTICE_RETRY_MAX_SECONDS))


def _record_failure(pk: int, error: str, *, now: dt.datetime) -> None:
    """Count a failed attempt on the notice (its delivery's transaction rolled back, so
    the row is as it was): wait `backoff` before the next, or keep it as failed when it
    has had NOTICE_MAX_ATTEMPTS, and then tell the admins. Under the row's lock, so two
    workers failing it at once count two attempts and fail it once."""
    with transaction.atomic():
        notice = (
            PendingNotice.objects.select_for_update().filter(pk=pk, failed_at__isnull=True).first()
        )
        if notice is None:
            return  # delivered meanwhile by another worker
        notice.attempts += 1
        notice.last_error = error[:2000]
        if notice.attempts >= settings.NOTICE_MAX_ATTEMPTS:
            notice.failed_at, notice.retry_at = now, None
        else:
            notice.retry_at = now + backoff(notice.attempts)
        notice.save(update_fields=["attempts", "last_error", "retry_at", "failed_at"])
        if notice.failed_at is not None:
            log.error(
                "pending notice failed for good",
                extra={"notice": pk, "attempts": notice.attempts, "error": notice.last_error},
            )
            from portal.notifications.alerts import alert_failed_notice

            alert_failed_notice(notice=notice, now=now)


def _due(now: dt.datetime, *, late_by: dt.timedelta, limit: int) -> list[int]:
    """Notices to deliver, oldest first, not kept as failed: new ones, and failed ones
    past their wait, that have been due for at least `late_by`. The pump asks for 0 and
    then compares no time of a new notice (written by a web server, whose clock may run
    ahead of the worker's): it takes every new notice it sees."""
    late = now - late_by
    if late_by:
        due = Q(retry_at__isnull=True, created_at__lte=late) | Q(retry_at__lte=late)
    else:
        due = Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    return list(
        PendingNotice.objects.filter(due, failed_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _expand_counted(ids: list[int]) -> dict[str, int]:
    """`notices_expand`, with failures recorded and counted, not raised: one bad row
    must not hide the others (its failure is logged and counted on the row)."""
    try:
        return notices_expand(ids)
    except NoticeNotDelivered as error:
        return error.counts


def notices_pump(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One look of the worker's notice pump: deliver up to PUMP_BATCH notices that are due,
    whatever their age. The pump looks again at once only when this delivered some: a
    look that found none, or only notices failing or held by another worker, waits."""
    ids = _due(now or timezone.now(), late_by=dt.timedelta(0), limit=PUMP_BATCH)
    return _expand_counted(ids) if ids else {"expanded": 0, "failed": 0}


def notices_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic safety net behind the pumps: notices due for more than SWEEP_AFTER
    (new ones, and failed ones past their wait), which only happens when no worker's pump
    is running. At most 500 a run, oldest first; notices kept as failed are an admin's."""
    return _expand_counted(_due(now or timezone.now(), late_by=SWEEP_AFTER, limit=500))


def notice_retry(*, notice: PendingNotice, actor) -> bool:
    """An admin asks for another attempt now at a notice kept as failed: it is no longer
    failed nor waiting, so the pump takes it at its next look. Its attempts are kept, so
    failing again keeps it as failed at once, with the new error. Returns False when it is
    not failed (delivered or retried meanwhile)."""
    retried = _retry(PendingNotice.objects.filter(pk=notice.pk))
    log.info("pending notice retry requested", extra={"notice": notice.pk, "actor": actor.pk})
    return bool(retried)


def _retry(notices) -> int:
    """Those of `notices` kept as failed made due again (the one rule of both retries)."""
    return notices.filter(failed_at__isnull=False).update(failed_at=None, retry_at=None)


def notices_retry_failed(*, actor) -> int:
    """An admin asks for another attempt at every notice kept as failed (after the cause
    is fixed: workers upgraded, a kind deployed again): as `notice_retry` for each, in one
    statement. Returns how many."""
    retried = _retry(PendingNotice.objects.all())
    log.info("pending notices retry requested", extra={"count": retried, "actor": actor.pk})
    return retried


def notice_discard(*, notice: PendingNotice, actor) -> bool:
    """An admin gives up on a notice kept as failed (its kind was removed, say): deleted,
    with what it held written to the log, so nobody is told and the record says so.
    Returns False when it is not failed (a notice being tried is never discarded)."""
    discarded, _ = PendingNotice.objects.filter(pk=notice.pk, failed_at__isnull=False).delete()
    if discarded:
        log.warning(
            "pending notice discarded",
            extra={
                "notice": notice.pk,
                "actor": actor.pk,
                "kinds": [message["kind"] for message in notice.messages],
                "people": sorted({pk for message in notice.messages for pk in message["to"]}),
                "last_error": notice.last_error,
            },
        )
    return bool(discarded)


def _deliver(notice: PendingNotice) -> None:
    """Write one pending notice's rows: the in-app notifications (dated when the event
    happened), then, unless its emails were paused, one outbox row per person who wants
    the kind by email, written together: one insert of notifications, one read of email
    preferences, one insert of outbox rows and one task for all of them. People no longer
    active (or gone) since the event are skipped."""
    from django.contrib.auth import get_user_model

    messages = notice.messages
    wanted = {pk for message in messages for pk in message["to"]}
    users = {
        user.pk: user for user in get_user_model().objects.filter(pk__in=wanted, is_active=True)
    }
    people = [[users[pk] for pk in message["to"] if pk in users] for message in messages]
    kinds = [get_kind(message["kind"]) for message in messages]
    told = [
        (n, user) for n, message in enumerate(messages) if message["in_app"] for user in people[n]
    ]
    if told:
        # Written by a statement made once per number of rows (`portal.lib.inserts`):
        # the ORM's insert cost more to build than the database takes to run it.
        inserts.insert(
            [
                Notification(
                    recipient=user,
                    kind=messages[n]["kind"],
                    text=messages[n]["text"],
                    link=messages[n]["link"],
                    created_at=notice.created_at,
                )
                for n, user in told
            ],
            using=router.db_for_write(Notification),
        )
        forget_unread_counts(user.pk for _, user in told)
    if not notice.emails:
        return
    wants = wants_email(people, kinds)
    deliveries = [
        delivery_for(
            user,
            kinds[n],
            message["context"],
            message["event_key"],
            message["thread_key"],
            message["link"],
            message["thread_tag"],
        )
        for n, message in enumerate(messages)
        for user in people[n]
        if wants(user.pk, kinds[n])
    ]
    if deliveries:
        # One event never mails one address twice: a repeat (a retried event, or two
        # messages of this batch to one person under one key) is skipped by the unique
        # (event_key, address) constraint, within this insert as across inserts.
        inserts.insert(deliveries, ignore_conflicts=True, using=router.db_for_write(EmailDelivery))
        enqueue_deliveries([delivery.pk for delivery in deliveries])
