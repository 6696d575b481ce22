"""Raw mail kept for the agents, the admins' mailbox health page, and who may open what."""

import hashlib

import pytest
from django.utils import timezone

from portal.attachments.models import PendingObject
from portal.mailin import services
from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.tests import fixtures
from portal.tickets import access, notify
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_an_accepted_message_is_kept_as_read_with_its_sha256(
    personas, imap_server, poll, files_storage
):
    raw = fixtures.plain("requester@example.com", "Monitor flickers", "Since Monday.")
    imap_server.append(raw)
    poll()
    row = InboundMessage.objects.get()
    assert row.outcome == "ticket" and row.raw_key.startswith(f"mail/{row.mailbox_id}/")
    with files_storage.open(row.raw_key, "rb") as stored:
        kept = stored.read()
    assert kept == raw.replace(b"\n", b"\r\n")  # as the IMAP server holds it: CRLF lines
    assert row.raw_sha256 == hashlib.sha256(kept).hexdigest() and row.raw_size == len(kept)
    assert not PendingObject.objects.exists()  # referred to by its row: off the ledger


def test_mail_that_writes_nothing_is_not_kept(personas, imap_server, poll):
    imap_server.append(
        fixtures.plain("stranger@elsewhere.example", "Hello", "Buy now."),
        fixtures.list_mail("announce@lists.example.com"),
    )
    poll()
    assert list(InboundMessage.objects.values_list("raw_key", flat=True)) == ["", ""]


def test_a_crash_inside_the_write_deletes_the_kept_copy_and_the_retry_keeps_one(
    personas, imap_server, poll, files_storage, monkeypatch
):
    imap_server.append(fixtures.plain("requester@example.com", "Webcam", "Black image."))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed mid-transaction")

    with monkeypatch.context() as patched:
        patched.setattr(notify, "ticket_created", killed)
        with pytest.raises(SystemExit):
            poll()
    assert stored_mail(files_storage) == [] and not PendingObject.objects.exists()
    poll()
    [row] = InboundMessage.objects.all()
    assert stored_mail(files_storage) == [row.raw_key]


def stored_mail(storage) -> list[str]:
    from portal.attachments.cleanup import iter_stored

    return [item.key for item in iter_stored(storage, "mail/")]


@pytest.fixture
def emailed_ticket(personas, imap_server, poll):
    imap_server.append(fixtures.plain("requester@example.com", "Dock dead", "No light."))
    poll()
    return InboundMessage.objects.get(), access.system_read(Ticket).get()


# The raw mail: for the people who work the ticket. The requester gets 404 like any
# outsider: the raw mail holds what the page leaves out (quoted history, refused files).
RAW_MATRIX = {
    None: 302,
    "requester": 404,
    "agent": 200,
    "lead": 200,
    "spoc": 200,
    "admin": 200,
    "outsider": 404,
}


@pytest.mark.parametrize(("persona", "status"), RAW_MATRIX.items())
def test_who_may_download_the_raw_mail(persona, status, personas, emailed_ticket, client_for):
    row, _ = emailed_ticket
    client = client_for(getattr(personas, persona) if persona else None)
    response = client.get(f"/mail/{row.pk}/raw")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "message/rfc822"
        assert b"".join(response.streaming_content).startswith(b"From: requester@example.com")
        assert response["Cache-Control"] == "private, no-store"


def test_the_raw_mail_is_never_changed_by_a_post(personas, emailed_ticket, client_for):
    row, _ = emailed_ticket
    assert client_for(personas.admin).post(f"/mail/{row.pk}/raw").status_code == 405


@pytest.mark.parametrize(("persona", "shown"), [("requester", False), ("agent", True)])
def test_the_ticket_page_links_the_raw_mail_for_workers_only(
    persona, shown, personas, emailed_ticket, client_for
):
    row, ticket = emailed_ticket
    page = client_for(getattr(personas, persona)).get(f"/tickets/{ticket.number}")
    assert page.status_code == 200
    assert (f'href="/mail/{row.pk}/raw"' in page.content.decode()) is shown


# The health page is for admins; every other signed-in persona gets 403.
HEALTH_MATRIX = {
    None: 302,
    "requester": 403,
    "agent": 403,
    "lead": 403,
    "spoc": 403,
    "admin": 200,
    "outsider": 403,
}


@pytest.mark.parametrize(("persona", "status"), HEALTH_MATRIX.items())
def test_who_may_see_the_mailbox_health_page(persona, status, personas, mailbox, client_for):
    client = client_for(getattr(personas, persona) if persona else None)
    assert client.get("/mailboxes").status_code == status
    expected_post = 405 if persona == "admin" else status
    assert client.post("/mailboxes").status_code == expected_post


# The mailbox screens of /admin (add, change, list) and the read-only ledger: staff only;
# everyone else is sent to sign in (Django's admin page for the signed in, the portal's
# for anonymous visitors), and nothing is changed.
ADMIN_PAGES = [
    "/admin/mailin/mailbox/",
    "/admin/mailin/mailbox/add/",
    "/admin/mailin/mailbox/{pk}/change/",
    "/admin/mailin/inboundmessage/",
]


@pytest.mark.parametrize("persona", ["requester", "agent", "lead", "spoc", "outsider", None])
def test_only_admins_reach_the_mailbox_admin_screens(persona, personas, mailbox, client_for):
    client = client_for(getattr(personas, persona) if persona else None)
    for url in ADMIN_PAGES:
        response = client.get(url.format(pk=mailbox.pk))
        assert response.status_code == 302, url
        assert response["Location"].startswith(("/login?next=", "/admin/login/?next=")), url
    response = client.post(f"/admin/mailin/mailbox/{mailbox.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and Mailbox.objects.filter(pk=mailbox.pk).exists()


def test_admins_reach_the_mailbox_admin_screens_and_the_ledger_is_read_only(
    personas, mailbox, client_for, emailed_ticket
):
    client = client_for(personas.admin)
    for url in ADMIN_PAGES:
        assert client.get(url.format(pk=mailbox.pk)).status_code == 200, url
    row, _ = emailed_ticket
    assert client.get(f"/admin/mailin/inboundmessage/{row.pk}/delete/").status_code == 403
    page = client.get(f"/admin/mailin/mailbox/{mailbox.pk}/change/").content.decode()
    assert mailbox.password not in page  # write-only


def test_the_health_page_shows_state_errors_counts_and_token_expiry(
    personas, mailbox, imap_server, poll, client_for, org, django_assert_num_queries
):
    imap_server.append(
        fixtures.plain("requester@example.com", "Dock dead", "No light."),
        fixtures.list_mail("announce@lists.example.com"),
    )
    poll()
    broken = Mailbox.objects.create(
        name="Facilities", address="facilities@example.com", host="127.0.0.1", port=1,
        security="none", username="x", auth=Mailbox.Auth.M365, oauth_tenant="t",
        oauth_client_id="c", oauth_client_secret="s", group=org.group_x, category=org.hardware,
        token_expires_at=timezone.now() + timezone.timedelta(minutes=50),
    )  # fmt: skip
    services.mailbox_poll_failed(
        mailbox=broken, error="LoginError: AUTHENTICATE failed", now=timezone.now()
    )
    services.mailbox_watch_claim(mailbox.pk, "worker-1")  # a worker holds it in IDLE
    client = client_for(personas.admin)
    client.get("/mailboxes")  # warm the session and the roles
    # The one of every signed-in page (the session with its user: roles and the unread
    # count come from the cache once warm), then the mailboxes, and the ledger counted by
    # mailbox and outcome in one GROUP BY.
    with django_assert_num_queries(1 + 2):
        page = client.get("/mailboxes")
    html = page.content.decode()
    assert "Failing</strong>: 1 poll in a row" in html
    assert "LoginError: AUTHENTICATE failed" in html
    assert "1 in the last 24 hours" not in html  # two messages were read
    assert "2 in the last 24 hours, 2 in all" in html
    assert "Raised a ticket" in html and "Automatic mail" in html
    assert "token valid until" in html
    assert html.count('data-reading="idle"') == 1 and "Watching (IMAP IDLE)" in html
    assert html.count('data-reading="polling"') == 1 and "Polling every 60 s" in html
