"""Erasing a departed person: refusals first, the request the worker works through, then
absence everywhere (PostgreSQL + S3)."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection

from portal.accounts.models import User
from portal.attachments.tests.files import pdf, png
from portal.kb import services as kb
from portal.kb.models import Article
from portal.mailin.models import InboundMessage
from portal.retention.erasure_services import (
    ErasureRefused,
    erasure_request,
    erasure_run,
    person_erase,
    pseudonym,
)
from portal.retention.models import ErasureRequest
from portal.testing.personas import PASSWORD
from portal.tickets import search
from portal.tickets import services as tickets
from portal.tickets.models import Attachment, Comment, Status, Ticket
from portal.tickets.tests.attachment_fixtures import new_ticket_data, upload

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Requester Persona", "requester@example.com"


def _erase_url(user):
    return f"/settings/users/{user.pk}/erase"


EXPECTED_GET = {
    **{p: 403 for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "admin": 200,
    "anonymous": 302,
}
# A POST by anyone but an admin changes nothing; the admin's confirmed one queues the
# erasure and locks the account out at once.
EXPECTED_POST = {**EXPECTED_GET, "admin": 302}


@pytest.mark.parametrize("persona", list(EXPECTED_GET))
def test_erase_page_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    assert client_for(user).get(_erase_url(personas.outsider)).status_code == EXPECTED_GET[persona]


@pytest.mark.parametrize("persona", list(EXPECTED_POST))
def test_erase_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    target = personas.outsider
    response = client_for(user).post(_erase_url(target), {"confirm_email": target.email})
    assert response.status_code == EXPECTED_POST[persona]
    target.refresh_from_db()
    asked = persona == "admin"
    assert ErasureRequest.objects.filter(user=target).count() == (1 if asked else 0)
    assert target.is_active == (not asked)
    assert target.has_usable_password() == (not asked)


def test_a_wrong_confirmation_erases_nothing(client_for, personas):
    response = client_for(personas.admin).post(
        _erase_url(personas.outsider), {"confirm_email": "someone@example.com"}
    )
    assert response.status_code == 400
    assert "not this person" in response.content.decode()
    assert User.objects.get(pk=personas.outsider.pk).is_active


def test_open_tickets_assigned_refuse_with_what_to_do(client_for, personas, org, raise_ticket):
    ticket = raise_ticket()
    assert ticket.assignee == personas.agent
    response = client_for(personas.admin).post(
        _erase_url(personas.agent), {"confirm_email": personas.agent.email}
    )
    assert response.status_code == 400
    assert "1 open ticket assigned" in response.content.decode()
    assert "Deactivate the account first" in response.content.decode()
    assert User.objects.get(pk=personas.agent.pk).full_name == "Agent Persona"


def test_the_only_spoc_of_a_group_is_refused(personas, org):
    with pytest.raises(ErasureRefused, match="only SPOC of Group X"):
        person_erase(user=personas.spoc, actor=personas.admin)
    org.group_x.spocs.add(personas.outsider)
    person_erase(user=personas.spoc, actor=personas.admin)
    assert list(org.group_x.spocs.all()) == [personas.outsider]


def test_an_admin_cannot_erase_themselves(client_for, personas):
    response = client_for(personas.admin).post(
        _erase_url(personas.admin), {"confirm_email": personas.admin.email}
    )
    assert response.status_code == 403


def _bucket_keys(s3_server) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=s3_server.bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", ()))


def _text_columns_holding(*needles: str) -> list[str]:
    """Every table.column of type text, varchar or json(b) in which a needle appears."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'tsvector')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608 (names from the catalogue)
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column} ∋ {needle}")
    return found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="searches PostgreSQL's catalogue")
@pytest.mark.django_db(transaction=True)
def test_after_erasure_name_email_and_files_are_found_nowhere(
    client_for, personas, org, s3_server, s3_storage, settings
):
    person = personas.requester
    # Their ticket with two files (into the S3 bucket), their reply with a file, mail in,
    # others writing their name and address, an article quoting them.
    assert (
        client_for(person)
        .post(
            "/tickets/new",
            {
                **new_ticket_data(org, description=f"From {NAME} <{EMAIL}>"),
                "files": [upload("scan.png", png()), upload("invoice.pdf", pdf())],
            },
        )
        .status_code
        == 302
    )
    ticket = Ticket.objects.get()
    client_for(person).post(
        f"/tickets/{ticket.number}/comments",
        {"body": "More detail", "files": [upload("more.pdf", pdf())]},
    )
    tickets.comment_add(
        actor=personas.agent, ticket=ticket, body=f"Called requester persona on {EMAIL.upper()}"
    )
    tickets.ticket_change_status(actor=personas.agent, ticket=ticket, status=Status.ON_HOLD)
    InboundMessage.objects.create(
        mailbox=_mailbox(org), uidvalidity=1, uid=1, content_hash="x" * 64, sender=EMAIL,
        subject="Re: printer", outcome=InboundMessage.Outcome.COMMENT,
        raw_key="mail/1/2026/12/1-1-abc.eml",
    )  # fmt: skip
    article = kb.article_create(
        actor=personas.admin,
        title="Printers",
        body=f"Thanks to {NAME} for the tip.",
        group=org.group_x,
        owner_team=org.team_a,
    )
    stored = _bucket_keys(s3_server)
    assert len(stored) == 3
    assert _text_columns_holding(NAME, EMAIL)  # the search below does find them before

    settings.ERASURE_BATCH = 7  # many batches, and several task runs, even here
    settings.ERASURE_BATCHES_PER_TASK = 20
    response = client_for(personas.admin).post(_erase_url(person), {"confirm_email": EMAIL})
    assert response.status_code == 302
    # Locked out from the moment the request is accepted, before the worker ran.
    assert not client_for(None).login(username=EMAIL, password=PASSWORD)
    request = ErasureRequest.objects.get(user=person)
    assert request.state == "queued" and request.requested_by == personas.admin
    page = client_for(personas.admin).get(_erase_url(person)).content.decode()
    assert "Queued" in page

    runs = run_default_queue()  # the real worker loop, until the queue is empty
    assert runs.count("portal.retention.tasks.erase_person") > 1  # it queued its own rest
    request.refresh_from_db()
    assert request.state == "done", request.error
    assert request.name == "" and request.email == ""
    assert request.counts["files"] == 3
    assert request.counts["rewritten"]["tickets.Comment"] == 1
    page = client_for(personas.admin).get(_erase_url(person)).content.decode()
    assert "Done" in page and "tickets.Comment: 1" in page

    assert _text_columns_holding(NAME, EMAIL) == []  # the sweep ran in the queue too
    # The raw copy of their mail (email in) is handed to the pending sweep of mail/.
    from portal.attachments.models import PendingObject

    assert PendingObject.objects.filter(key="mail/1/2026/12/1-1-abc.eml").exists()
    assert _bucket_keys(s3_server) == []
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert not search.matching_ids(personas.admin, NAME).exists()
    assert not Article.objects.filter(
        pk=article.pk, search_document=SearchQuery("requester", config="simple")
    ).exists()
    # The records stay, with the pseudonym as their author; the account cannot sign in.
    person.refresh_from_db()
    alias = pseudonym(person)
    assert person.full_name == alias and not person.is_active
    assert not person.has_usable_password()
    assert Ticket.objects.get(pk=ticket.pk).requester_id == person.pk
    assert Comment.objects.get(ticket=ticket, author=personas.agent).body == (
        f"Called {alias} on {person.email}"
    )
    page = client_for(personas.agent).get(f"/tickets/{ticket.number}").content.decode()
    assert alias in page and NAME not in page
    assert not client_for(None).login(username=EMAIL, password=PASSWORD)


def run_default_queue() -> list[str]:
    """Run the portal's worker loop on the default queue until nothing is left; the task
    paths it ran, in order."""
    from django_tasks_db.models import DBTaskResult

    from portal.core.worker import ResilientWorker

    worker = ResilientWorker(
        queue_names=["default"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="test-worker",
        excluded_queue_names=[],
    )  # fmt: skip
    worker.run()
    ran = DBTaskResult.objects.exclude(status="READY")
    assert not ran.filter(status="FAILED").exists(), list(ran.values_list("traceback"))
    return list(ran.order_by("enqueued_at").values_list("task_path", flat=True))


def _mailbox(org):
    from portal.mailin.models import Mailbox

    return Mailbox.objects.create(
        name="Support", address="support@example.com", host="127.0.0.1", username="u",
        group=org.group_x, category=org.hardware,
    )  # fmt: skip


def test_a_departed_manager_and_delegate_approve_nothing_more(personas):
    from datetime import timedelta

    from django.utils import timezone

    from portal.approvals.models import Delegation

    manager = personas.lead
    User.objects.filter(pk=personas.requester.pk).update(manager=manager)
    today = timezone.localdate()
    for user, delegate in ((manager, personas.agent), (personas.spoc, manager)):
        Delegation.objects.create(
            user=user,
            delegate=delegate,
            starts_on=today,
            ends_on=today + timedelta(days=7),
            created_by=user,
            created_at=timezone.now(),
        )
    User.objects.filter(pk=manager.pk).update(full_name="Lee Manager")
    manager.refresh_from_db()
    person_erase(user=manager, actor=personas.admin)
    assert User.objects.get(pk=personas.requester.pk).manager_id is None
    assert not Delegation.objects.filter(user=manager).exists()
    assert not Delegation.objects.filter(delegate=manager).exists()


def test_a_double_submit_makes_one_request(client_for, personas):
    admin = client_for(personas.admin)
    target = personas.outsider
    for _ in range(2):
        response = admin.post(_erase_url(target), {"confirm_email": target.email})
        assert response.status_code == 302
    assert ErasureRequest.objects.filter(user=target).count() == 1
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="erase_person").count() == 1
    page = admin.get(_erase_url(target)).content.decode()
    assert "Erasure request" in page and "Queued" in page and "can no longer sign in" in page


def test_sessions_and_tokens_end_when_the_request_is_accepted(client_for, personas, caplog):
    from portal.accounts.models import UserSession
    from portal.api.models import ApiToken
    from portal.api.tokens import token_create, user_for_token

    target = personas.outsider
    signed_in = client_for(target)
    assert signed_in.get("/dashboard").status_code == 200
    token = token_create(user=target, name="script")
    with caplog.at_level("INFO", logger="portal.security"):
        erasure_request(user=target, actor=personas.admin)
    # The security log tells the lock-out from the person's own change of password.
    [changed] = [r for r in caplog.records if r.getMessage() == "password changed"]
    assert changed.via == "erasure" and changed.user_id == target.pk
    assert not UserSession.objects.filter(user=target).exists()
    assert not ApiToken.objects.filter(user=target).exists()
    assert user_for_token(token.secret) is None
    assert signed_in.get("/dashboard").status_code == 302  # back to the sign-in page
    assert not client_for(None).login(username=target.email, password=PASSWORD)


def test_the_worker_checks_again_stops_with_the_reason_and_resumes_when_asked(
    client_for, personas, org
):
    org.group_x.spocs.add(personas.outsider)
    request = erasure_request(user=personas.spoc, actor=personas.admin)
    # Before the worker takes it, the other SPOC leaves the group.
    org.group_x.spocs.remove(personas.outsider)
    assert erasure_run(request_id=request.pk)["state"] == "failed"
    request.refresh_from_db()
    assert "only SPOC of Group X" in request.error
    spoc = User.objects.get(pk=personas.spoc.pk)
    assert spoc.email == "spoc@example.com" and not spoc.is_active  # nothing erased yet
    page = client_for(personas.admin).get(_erase_url(spoc)).content.decode()
    assert "only SPOC of Group X" in page and "Resume the erasure" in page

    org.group_x.spocs.add(personas.outsider)
    response = client_for(personas.admin).post(_erase_url(spoc), {"confirm_email": spoc.email})
    assert response.status_code == 302
    assert ErasureRequest.objects.filter(user=spoc).count() == 1  # the same request again
    while erasure_run(request_id=request.pk)["state"] == "running":
        pass
    request.refresh_from_db()
    assert request.state == "done" and request.error == ""
    assert User.objects.get(pk=spoc.pk).full_name == pseudonym(spoc)


def test_the_progress_page_takes_a_fixed_number_of_queries(
    client_for, personas, django_assert_num_queries
):
    target = personas.outsider
    admin = client_for(personas.admin)
    erasure_request(user=target, actor=personas.admin)
    admin.get(_erase_url(target))  # warm the cached roles and bell
    # The poll every 2 s: the session with the admin; the person; the latest request with
    # who asked.
    with django_assert_num_queries(3):
        response = admin.get(_erase_url(target), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "erasure-progress" in response.content.decode()


def test_a_request_whose_task_was_lost_is_queued_again_and_finishes(personas, settings):
    """A Redis queue can lose the continuation a dying worker queued: the periodic job
    finds the request nobody has moved for ten minutes and queues it again, once."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from portal.retention.erasure_services import erasures_resume_stalled

    settings.ERASURE_BATCH, settings.ERASURE_BATCHES_PER_TASK = 1, 1
    target = personas.requester
    request = erasure_request(user=target, actor=personas.admin)
    assert erasure_run(request_id=request.pk)["state"] == "running"  # one batch done
    DBTaskResult.objects.all().delete()  # its continuation is lost
    assert erasures_resume_stalled() == 0  # moved a moment ago: only slow, not lost
    later = timezone.now() + timedelta(minutes=11)
    assert erasures_resume_stalled(now=later) == 1
    [queued] = DBTaskResult.objects.filter(task_path__endswith="erase_person")
    assert queued.args_kwargs["args"] == [request.pk]
    while erasure_run(request_id=request.pk)["state"] == "running":  # as its task runs
        pass
    request.refresh_from_db()
    assert request.state == "done"
    assert User.objects.get(pk=target.pk).full_name == pseudonym(target)
    assert erasures_resume_stalled(now=later) == 0  # a finished request is left alone


def test_the_cached_html_of_a_text_naming_them_is_dropped(
    client_for, personas, org, monkeypatch, django_capture_on_commit_callbacks
):
    """A ticket page caches its comments' HTML under a digest of their text; the entry of
    a text that named the person must not outlive the rewrite."""
    from portal.lib import markdown

    person = personas.requester
    assert client_for(person).post("/tickets/new", new_ticket_data(org)).status_code == 302
    ticket = Ticket.objects.get()
    # Markdown (bold), so its HTML is cached: plain prose is written anew on every page.
    said = f"Spoke to **{NAME}** about it"
    tickets.comment_add(actor=personas.agent, ticket=ticket, body=said)
    page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    assert f"<strong>{NAME}</strong>" in page
    rendered = []
    converted = markdown._converted

    def counted(text, **kwargs):
        rendered.append(text)
        return converted(text, **kwargs)

    monkeypatch.setattr(markdown, "_converted", counted)
    assert NAME in markdown.render_many([said])[0]
    assert rendered == []  # the page cached it
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(user=person, actor=personas.admin)
    page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    assert NAME not in page and pseudonym(person) in page
    markdown.render_many([said])
    assert said in rendered  # no longer cached: the erasure dropped it


def test_a_cache_that_does_not_answer_does_not_fail_the_erasure(
    client_for, personas, org, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    person = personas.requester
    assert client_for(person).post("/tickets/new", new_ticket_data(org)).status_code == 302
    tickets.comment_add(actor=personas.agent, ticket=Ticket.objects.get(), body=f"Met {NAME}")

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "delete_many", down)
    with django_capture_on_commit_callbacks(execute=True):
        erased = person_erase(user=person, actor=personas.admin)
    assert ErasureRequest.objects.get(user=person).state == "done"
    assert erased.rewritten and not Comment.objects.filter(body__contains=NAME).exists()


def test_notifications_not_yet_delivered_lose_the_name_and_the_erased_are_never_told(personas):
    """A pending notice (or one kept as failed) is rewritten like any JSON column: its
    texts name the pseudonym; delivered afterwards, it tells the others, not the erased."""
    import json

    from django.utils import timezone

    from portal.notifications.models import Notification, PendingNotice
    from portal.notifications.services import Message, notify_many
    from portal.testing.notices import deliver_pending

    def message(recipients, key):
        text = f"{NAME} commented on TKT-000007"
        return Message(
            recipients=recipients, kind="ticket_comment", text=text, link="/tickets/TKT-000007",
            context={"text": text, "body": f"Write to {EMAIL.upper()}"},
            event_key=f"ticket:7:{key}",
        )  # fmt: skip

    person = personas.requester
    notify_many([message([personas.agent, person], "a")])
    failed = notify_many([message([personas.lead], "b")])
    PendingNotice.objects.filter(pk=failed.pk).update(failed_at=timezone.now(), attempts=8)

    person_erase(user=person, actor=personas.admin)

    person.refresh_from_db()
    alias = pseudonym(person)
    for notice in PendingNotice.objects.all():
        held = json.dumps(notice.messages)
        assert NAME.lower() not in held.lower() and EMAIL not in held.lower()
        assert alias in held and person.email in held
    assert PendingNotice.objects.get(pk=failed.pk).failed_at is not None  # still the admin's
    deliver_pending()
    assert [(n.recipient, n.text) for n in Notification.objects.all()] == [
        (personas.agent, f"{alias} commented on TKT-000007")
    ]
