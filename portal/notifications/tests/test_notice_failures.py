"""A pending notice that keeps failing is not retried every 30 seconds for ever, nor does it
fail silently: each failure waits longer before the next attempt, the last one keeps it as
failed (not deleted, not swept), the admins are told once per burst, `/healthz` fails
naming it, and the delivery log lists it for an admin to retry or discard."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.utils import timezone

from portal.notifications import health, notice_services
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.models import EmailDelivery, Notification, PendingNotice
from portal.notifications.services import Message, notify_many
from portal.notifications.tasks import expand_notices, sweep_pending_notices
from portal.testing.concurrency import run_contested
from portal.testing.notices import deliver_pending

GONE = Kind(
    name="test_gone",
    label="A kind removed after its events",
    email_template="notice",
    sample_context=lambda: {"text": "x", "body": "y"},
)


@pytest.fixture
def settings_for_retries(settings):
    settings.NOTICE_RETRY_BASE_SECONDS = 30
    settings.NOTICE_RETRY_MAX_SECONDS = 100
    settings.NOTICE_MAX_ATTEMPTS = 4
    return settings


def failing_notice(recipients, kind_registry, *, key="a") -> PendingNotice:
    """A notice of a kind that is no longer registered when the worker takes it (a removed
    feature): it fails every time, an hour after its event (the sweep's to take)."""
    kind_registry.setdefault(GONE.name, GONE)
    notice = notify_many(
        [
            Message(
                recipients=recipients,
                kind=GONE.name,
                text=f"Ticket TKT-000001: {key}",
                link="/tickets/TKT-000001",
                context={"text": "Ticket TKT-000001", "body": "Details"},
                event_key=f"ticket:1:{key}",
            )
        ]
    )
    del kind_registry[GONE.name]
    PendingNotice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    notice.refresh_from_db()
    return notice


def fail_for_good(notice: PendingNotice, settings) -> PendingNotice:
    for _ in range(settings.NOTICE_MAX_ATTEMPTS):
        with pytest.raises(notice_services.NoticeNotDelivered):
            notice_services.notices_expand([notice.pk])
    notice.refresh_from_db()
    assert notice.failed_at is not None
    return notice


@pytest.mark.django_db
def test_each_failure_waits_longer_before_it_is_tried_again_up_to_the_cap(
    personas, kind_registry, settings_for_retries
):
    notice = failing_notice([personas.agent], kind_registry)
    waits = []
    for attempt in range(1, 4):
        before = timezone.now()
        # Due (new, or its wait over): the pump tries it, and it fails again.
        due = notice.retry_at or before
        assert notice_services.notices_pump(now=due) == {"expanded": 0, "failed": 1}
        notice.refresh_from_db()
        assert notice.attempts == attempt and notice.failed_at is None
        assert "test_gone" in notice.last_error
        waits.append(notice.retry_at - before)
        # Not due yet: the pump and the sweep leave it, and spend no attempt.
        early = notice.retry_at - dt.timedelta(seconds=1)
        assert notice_services.notices_pump(now=early) == {"expanded": 0, "failed": 0}
        assert notice_services.notices_sweep(now=early) == {"expanded": 0, "failed": 0}
        assert PendingNotice.objects.get().attempts == attempt
    # 30 s, 60 s, then the 100 s cap (each measured from just before the attempt).
    assert [round(wait.total_seconds() / 10) * 10 for wait in waits] == [30, 60, 100]


@pytest.mark.django_db
def test_the_last_attempt_keeps_the_notice_as_failed_and_the_sweep_leaves_it(
    personas, kind_registry, settings_for_retries, caplog
):
    notice = failing_notice([personas.agent, personas.lead], kind_registry)
    with caplog.at_level(logging.ERROR, logger="portal.email"):
        notice = fail_for_good(notice, settings_for_retries)
    assert notice.attempts == 4 and notice.retry_at is None
    assert any(r.getMessage() == "pending notice failed for good" for r in caplog.records)
    # Kept, not deleted; neither the sweep, however late, nor a stale task takes it again.
    later = timezone.now() + dt.timedelta(days=1)
    assert sweep_pending_notices.call() == {"expanded": 0, "failed": 0}
    # A day later the sweep delivers the admins' alert (below), and leaves it.
    assert notice_services.notices_sweep(now=later) == {"expanded": 1, "failed": 0}
    assert expand_notices.call([notice.pk]) == {"expanded": 0, "failed": 0}
    assert PendingNotice.objects.get(pk=notice.pk).attempts == 4
    assert not Notification.objects.filter(recipient__in=[personas.agent, personas.lead]).exists()


@pytest.mark.django_db
def test_admins_are_told_once_per_burst_in_the_portal_and_by_email(
    personas, kind_registry, settings_for_retries
):
    first = fail_for_good(failing_notice([personas.agent], kind_registry), settings_for_retries)
    deliver_pending()  # the alert is a notice too; the failed one is left alone
    [alert] = Notification.objects.filter(kind="notice_failed")
    assert alert.recipient == personas.admin
    assert alert.text == "A notification for 1 person could not be delivered"
    assert alert.link == "/notifications/deliveries#notices"
    [mail] = EmailDelivery.objects.filter(kind="notice_failed")
    assert mail.to_address == personas.admin.email
    assert "test_gone" in mail.pending["context"]["body"]

    # A second notice failing within the quiet hour is listed, not announced.
    second = failing_notice([personas.lead], kind_registry, key="b")
    fail_for_good(second, settings_for_retries)
    deliver_pending()
    assert Notification.objects.filter(kind="notice_failed").count() == 1
    assert set(PendingNotice.objects.values_list("pk", flat=True)) == {first.pk, second.pk}


@pytest.mark.django_db
def test_healthz_fails_naming_the_failed_notices_while_readiness_holds(
    client, personas, kind_registry, settings_for_retries
):
    notice = failing_notice([personas.agent], kind_registry)
    body = client.get("/healthz").json()
    # An hour old and never tried: late (the test below shows a young one is fine).
    assert body["notices"] == {
        "status": "late",
        "pending": 1,
        "retrying": 0,
        "failed": 0,
        "late": 1,
        "oldest_pending_seconds": body["notices"]["oldest_pending_seconds"],
    }
    assert 3590 <= body["notices"]["oldest_pending_seconds"] <= 3700

    fail_for_good(notice, settings_for_retries)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "notices" in response.json()["failing"]
    assert response.json()["notices"]["status"] == "failed"
    assert response.json()["notices"]["failed"] == 1
    assert client.get("/healthz/ready").status_code == 200  # pages still work


@pytest.mark.django_db
def test_an_admins_retry_delivers_it_once_its_kind_is_back(
    client_for, personas, kind_registry, settings_for_retries
):
    notice = fail_for_good(failing_notice([personas.agent], kind_registry), settings_for_retries)
    register_kind(GONE)  # the feature is deployed again
    response = client_for(personas.admin).post(f"/notifications/notices/{notice.pk}/retry")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/deliveries#notices"
    # No longer failed nor waiting: the worker's pump takes it at its next look.
    # It, and the admins' alert that it had failed (a notice of its own).
    assert notice_services.notices_pump() == {"expanded": 2, "failed": 0}
    assert [n.recipient for n in Notification.objects.filter(kind="test_gone")] == [personas.agent]
    assert not PendingNotice.objects.filter(pk=notice.pk).exists()


@pytest.mark.django_db
def test_a_retry_that_fails_again_keeps_it_failed_with_the_new_error(
    personas, kind_registry, settings_for_retries
):
    notice = fail_for_good(failing_notice([personas.agent], kind_registry), settings_for_retries)
    PendingNotice.objects.filter(pk=notice.pk).update(last_error="old")
    assert notice_services.notice_retry(notice=notice, actor=personas.admin)
    with pytest.raises(notice_services.NoticeNotDelivered):
        notice_services.notices_expand([notice.pk])
    notice.refresh_from_db()
    assert notice.failed_at is not None and notice.attempts == 5
    assert "test_gone" in notice.last_error
    # A retry queues it once: asked again before it failed again, nothing changes.
    assert notice_services.notice_retry(notice=notice, actor=personas.admin)
    assert not notice_services.notice_retry(notice=notice, actor=personas.admin)
    assert PendingNotice.objects.get(pk=notice.pk).failed_at is None


@pytest.mark.django_db
def test_discarding_deletes_only_a_failed_notice_and_logs_what_it_held(
    personas, kind_registry, settings_for_retries, caplog
):
    failed = fail_for_good(failing_notice([personas.agent], kind_registry), settings_for_retries)
    trying = failing_notice([personas.lead], kind_registry, key="b")
    assert not notice_services.notice_discard(notice=trying, actor=personas.admin)
    with caplog.at_level(logging.WARNING, logger="portal.email"):
        assert notice_services.notice_discard(notice=failed, actor=personas.admin)
    assert not PendingNotice.objects.filter(pk=failed.pk).exists()
    assert PendingNotice.objects.filter(pk=trying.pk).exists()
    [record] = [r for r in caplog.records if r.getMessage() == "pending notice discarded"]
    assert (record.actor, record.kinds, record.people) == (
        personas.admin.pk,
        ["test_gone"],
        [personas.agent.pk],
    )


@pytest.mark.django_db
def test_the_delivery_log_lists_failed_then_retrying_notices_in_fixed_queries(
    client_for, personas, kind_registry, settings_for_retries, django_assert_num_queries
):
    client = client_for(personas.admin)
    client.get("/notifications/deliveries")  # warm: roles and the bell from the cache
    for key in ("a", "b", "c"):
        failing_notice([personas.agent, personas.lead], kind_registry, key=key)
    retrying = PendingNotice.objects.order_by("pk").first()
    with pytest.raises(notice_services.NoticeNotDelivered):
        notice_services.notices_expand([retrying.pk])
    fail_for_good(PendingNotice.objects.order_by("pk").last(), settings_for_retries)
    # the session with its user (one statement), the count of deliveries (none here, so no
    # page of them is read), and the troubled notices (at most 50); roles and the bell
    # from the cache.
    with django_assert_num_queries(3):
        html = client.get("/notifications/deliveries").content.decode()
    assert html.index("Failed</span>") < html.index("Retrying</span>")
    assert html.count('/retry"') == 1 and html.count('/discard"') == 1  # the failed one's
    assert html.count("/retry-failed") == 1
    assert "LookupError: Unknown notification kind" in html
    # A notice never tried (the worker will take it within seconds) is not trouble.
    assert html.count("test_gone</td>") == 2


# Each persona x action on a fresh failed notice: (status, whether the notice changed).
ACTIONS = ["retry", "discard", "retry by GET", "retry every failed one"]
EXPECTED = {
    **{
        p: {"retry": 403, "discard": 403, "retry by GET": 403, "retry every failed one": 403}
        for p in ["requester", "agent", "lead", "spoc", "outsider"]
    },
    "admin": {"retry": 302, "discard": 302, "retry by GET": 405, "retry every failed one": 302},
    "anonymous": {
        "retry": 302,
        "discard": 302,
        "retry by GET": 302,
        "retry every failed one": 302,
    },  # fmt: skip
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(EXPECTED))
def test_notice_actions_permission_matrix(
    client_for, personas, kind_registry, settings_for_retries, persona
):
    user = None if persona == "anonymous" else getattr(personas, persona)
    client = client_for(user)
    got, changed = {}, {}
    for n, action in enumerate(ACTIONS):
        notice = fail_for_good(
            failing_notice([personas.agent], kind_registry, key=str(n)), settings_for_retries
        )
        url = f"/notifications/notices/{notice.pk}/{action.split()[0]}"
        if action == "retry every failed one":
            url = "/notifications/notices/retry-failed"
        response = client.get(url) if action.endswith("GET") else client.post(url)
        got[action] = response.status_code
        after = PendingNotice.objects.filter(pk=notice.pk).first()
        changed[action] = after is None or after.failed_at is None
    assert got == EXPECTED[persona]
    done = persona == "admin"
    assert changed == {
        "retry": done, "discard": done, "retry by GET": False, "retry every failed one": done,
    }  # fmt: skip


@pytest.mark.django_db
def test_an_unknown_notice_is_a_404_for_admins(client_for, personas):
    client = client_for(personas.admin)
    assert client.post("/notifications/notices/999999/retry").status_code == 404
    assert client.post("/notifications/notices/999999/discard").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs overlapping transactions (PostgreSQL)"
)
def test_two_sweeps_at_once_spend_one_attempt_of_a_failing_notice(
    personas, kind_registry, settings_for_retries
):
    notice = failing_notice([personas.agent], kind_registry)
    # Both read the notice at the same moment: one holds its row, the other passes it by.
    results = run_contested(
        notice_services.notices_sweep, module=notice_services, reader="_claim", count=2
    )
    assert sorted(result.get("failed", 0) for result in results) == [0, 1]
    notice.refresh_from_db()
    assert notice.attempts == 1 and notice.retry_at is not None


@pytest.mark.django_db
def test_retrying_every_failed_notice_takes_those_beyond_the_list_and_leaves_the_waiting(
    client_for, personas, kind_registry, settings_for_retries, monkeypatch
):
    from portal.notifications import views

    monkeypatch.setattr(views, "TROUBLED_NOTICES", 2)  # the log lists two
    failed = [
        fail_for_good(
            failing_notice([personas.agent], kind_registry, key=f"f{n}"), settings_for_retries
        )
        for n in range(3)
    ]
    waiting = failing_notice([personas.lead], kind_registry, key="waiting")
    notice_services.notices_pump(now=waiting.created_at)  # one failed attempt: waits
    waiting.refresh_from_db()
    assert waiting.retry_at is not None and waiting.failed_at is None
    client = client_for(personas.admin)
    assert "Retry every failed one" in client.get("/notifications/deliveries").content.decode()

    response = client.post("/notifications/notices/retry-failed", follow=True)
    assert "Another attempt at 3 failed events has been queued." in response.content.decode()
    assert not PendingNotice.objects.filter(failed_at__isnull=False).exists()
    for notice in failed:
        notice.refresh_from_db()
        assert (
            notice.retry_at is None and notice.attempts == settings_for_retries.NOTICE_MAX_ATTEMPTS
        )
    assert PendingNotice.objects.get(pk=waiting.pk).retry_at == waiting.retry_at  # untouched
    page = client.get("/notifications/deliveries").content.decode()
    assert "Retry every failed one" not in page


@pytest.mark.django_db
def test_healthz_fails_while_a_notice_never_tried_waits_longer_than_anything_delivers(
    client, personas
):
    notice = notify_many(
        [
            Message(
                recipients=[personas.agent], kind="test_event", text="x", link="",
                context={"text": "x", "body": "y"}, event_key="late",
            )
        ]
    )  # fmt: skip
    assert client.get("/healthz").json()["notices"]["status"] == "ok"  # seconds old
    PendingNotice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - health.LATE_AFTER - dt.timedelta(seconds=1)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "notices" in response.json()["failing"]
    assert response.json()["notices"]["status"] == "late"
    assert response.json()["notices"]["late"] == 1
    assert client.get("/healthz/ready").status_code == 200  # pages still work
    notice_services.notices_pump()  # a worker delivers again
    assert client.get("/healthz").json()["notices"]["status"] == "ok"
