"""A mailbox whose target is the triage queue: its mail waits unclassified (no ticket yet),
the admins on triage duty are told, and classifying it on the page raises the ticket and
routes it like one raised on the page."""

import pytest

from portal.accounts.models import User
from portal.mailin import triage
from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.notifications.models import Notification
from portal.testing.notices import deliver_pending
from portal.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def triage_box(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        target=Mailbox.Target.TRIAGE, group=None, category=None, subcategory=None
    )
    mailbox.refresh_from_db()
    return mailbox


def fan_mail() -> bytes:
    return fixtures.with_files(
        "requester@example.com", "Laptop fan loud", "It roars when idle.",
        fixtures.good_files(),
    )  # fmt: skip


@pytest.fixture
def waiting(personas, triage_box, imap_server, poll):
    """One mail from the requester, with two files, waiting in the queue."""
    personas.admin.on_triage_duty = True
    personas.admin.save(update_fields=["on_triage_duty"])
    imap_server.append(fan_mail())
    poll()
    return InboundMessage.objects.get()


def test_mail_to_a_triage_mailbox_waits_unclassified_and_the_admins_on_duty_are_told(
    personas, waiting
):
    other_admin = User.objects.create_user(
        email="off-duty@example.com", full_name="Off Duty", is_staff=True
    )
    assert waiting.outcome == "triage" and waiting.ticket_id is None
    assert waiting.raw_key and waiting.raw_sha256  # kept as read, for the classification
    assert "It roars when idle." in waiting.detail
    assert not Ticket.objects.exists()
    deliver_pending()
    told = Notification.objects.filter(kind="mailin_triage")
    assert [n.recipient for n in told] == [personas.admin]
    assert told.get().link == "/mailboxes/triage"
    assert not Notification.objects.filter(recipient=other_admin).exists()


def test_the_same_mail_again_while_it_waits_is_a_duplicate(personas, waiting, imap_server, poll):
    imap_server.append(fan_mail())  # the same mail again (a new Message-ID: not trusted)
    poll()
    assert outcomes() == ["triage", "duplicate"]


def test_classifying_raises_the_ticket_from_the_kept_mail_and_routes_it(
    personas, org, waiting, client_for
):
    client = client_for(personas.admin)
    page = client.get("/mailboxes/triage").content.decode()
    assert "Laptop fan loud" in page and "It roars when idle." in page
    assert f'<option value="s{org.laptop.pk}">Group X › Hardware › Laptop</option>' in page
    response = client.post(
        f"/mailboxes/triage/{waiting.pk}/classify", {"classification": f"s{org.laptop.pk}"}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert (ticket.requester, ticket.title) == (personas.requester, "Laptop fan loud")
    assert (ticket.group, ticket.category, ticket.subcategory) == (
        org.group_x, org.hardware, org.laptop,
    )  # fmt: skip
    # Routed like a ticket raised on the page: the mapping's team, its least-loaded member.
    assert ticket.team == org.team_a and ticket.assignee is not None
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == [
        "invoice.pdf", "photo.png",
    ]  # fmt: skip
    waiting.refresh_from_db()
    assert (waiting.outcome, waiting.ticket) == ("ticket", ticket)
    assert waiting.detail == "classified from the triage queue"
    assert waiting.decided_by == personas.admin  # a person, not a name in the text
    assert "No mail is waiting" in client.get("/mailboxes/triage").content.decode()


def test_a_reply_to_the_classified_mail_is_a_comment_on_its_ticket(
    personas, org, waiting, imap_server, poll, client_for
):
    client_for(personas.admin).post(
        f"/mailboxes/triage/{waiting.pk}/classify", {"classification": f"c{org.hardware.pk}"}
    )
    ticket = Ticket.objects.get()
    imap_server.append(
        fixtures.plain(
            "requester@example.com", "Re: Laptop fan loud", "Still loud today.",
            in_reply_to=waiting.message_id, references=waiting.message_id,
        )
    )  # fmt: skip
    poll()
    assert outcomes() == ["ticket", "comment"]
    assert InboundMessage.objects.get(outcome="comment").ticket == ticket


@pytest.mark.parametrize(
    ("choice", "status"),
    [("", 400), ("c999999", 400), ("s", 400), ("x1", 400), ("inactive", 400)],
)
def test_a_bad_classification_is_refused_and_nothing_is_written(
    choice, status, personas, org, waiting, client_for
):
    if choice == "inactive":
        org.hardware.is_active = False
        org.hardware.save()
        choice = f"c{org.hardware.pk}"
    response = client_for(personas.admin).post(
        f"/mailboxes/triage/{waiting.pk}/classify", {"classification": choice}
    )
    assert response.status_code == status
    assert 'role="alert"' in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    waiting.refresh_from_db()
    assert waiting.outcome == "triage" and waiting.ticket_id is None


def test_a_sender_whose_account_is_gone_is_refused_and_the_mail_keeps_waiting(
    personas, org, waiting, client_for
):
    personas.requester.is_active = False
    personas.requester.save()
    response = client_for(personas.admin).post(
        f"/mailboxes/triage/{waiting.pk}/classify", {"classification": f"c{org.hardware.pk}"}
    )
    assert response.status_code == 400 and "no longer has an active account" in (
        response.content.decode()
    )
    assert not Ticket.objects.exists()
    assert InboundMessage.objects.get().outcome == "triage"


def test_classifying_twice_makes_one_ticket_and_the_second_is_told_which(
    personas, org, waiting, client_for, files_storage, monkeypatch
):
    client = client_for(personas.admin)
    url = f"/mailboxes/triage/{waiting.pk}/classify"
    client.post(url, {"classification": f"c{org.hardware.pk}"})
    ticket = Ticket.objects.get()
    response = client.post(url, {"classification": f"c{org.hardware.pk}"})
    assert response.status_code == 409
    assert f"classified meanwhile by Admin Persona: it is ticket {ticket.number}" in (
        response.content.decode()
    )
    # Two admins at once: the second read the row while it still waited; its ticket is
    # rolled back when the row, locked in its transaction, has left the queue.
    monkeypatch.setattr(triage, "_waiting_row", lambda pk: waiting)
    stored_before = _stored(files_storage)
    response = client.post(url, {"classification": f"c{org.hardware.pk}"})
    assert response.status_code == 409
    assert Ticket.objects.count() == 1 and Attachment.objects.count() == 2
    assert _stored(files_storage) == stored_before  # its copies of the files were deleted


@pytest.mark.parametrize(
    ("failing", "told"),
    [
        (None, "The mail storage does not answer"),  # the kept mail cannot be read
        ({"PUT"}, "The files could not be stored right now"),  # read, but its files not stored
    ],
    ids=["reading-the-mail", "storing-the-files"],
)
def test_classifying_while_the_storage_fails_is_a_503_and_the_mail_keeps_waiting(
    failing, told, personas, org, waiting, client_for, files_storage, settings, s3_server, s3_faults
):
    # The kept mail moves to the bucket, which is then reached through the fault stub.
    with files_storage.open(waiting.raw_key, "rb") as kept:
        s3_server.client().put_object(Bucket=s3_server.bucket, Key=waiting.raw_key, Body=kept)
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_server.storage_config(endpoint_url=s3_faults.endpoint),
    }
    client = client_for(personas.admin)
    url = f"/mailboxes/triage/{waiting.pk}/classify"
    s3_faults.answer(500, methods=failing)
    response = client.post(url, {"classification": f"c{org.hardware.pk}"})
    assert response.status_code == 503
    assert told in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    waiting.refresh_from_db()
    assert waiting.outcome == "triage" and waiting.ticket_id is None
    s3_faults.pass_through()
    assert client.post(url, {"classification": f"c{org.hardware.pk}"}).status_code == 302
    assert Ticket.objects.get().attachments.count() == 2


def test_dismissing_takes_the_mail_out_of_the_queue_without_a_ticket(personas, waiting, client_for):
    client = client_for(personas.admin)
    response = client.post(f"/mailboxes/triage/{waiting.pk}/dismiss")
    assert response.status_code == 302 and response["Location"] == "/mailboxes/triage"
    waiting.refresh_from_db()
    assert waiting.outcome == "rejected" and "Dismissed from the triage queue" in waiting.detail
    assert waiting.decided_by == personas.admin
    assert not Ticket.objects.exists()
    again = client.post(f"/mailboxes/triage/{waiting.pk}/dismiss")
    assert again.status_code == 409
    assert "This mail was dismissed meanwhile by Admin Persona." in again.content.decode()
    assert client.post("/mailboxes/triage/999999/dismiss").status_code == 404


# The queue and its two actions are for admins; every other signed-in persona gets 403
# and nothing changes; anonymous visitors are sent to sign in.
MATRIX = {
    None: (302, 302, 302),
    "requester": (403, 403, 403),
    "agent": (403, 403, 403),
    "lead": (403, 403, 403),
    "spoc": (403, 403, 403),
    "outsider": (403, 403, 403),
    "admin": (200, 302, 302),
}


@pytest.mark.parametrize(("persona", "expected"), MATRIX.items())
@pytest.mark.parametrize("action", ["page", "classify", "dismiss"])
def test_who_may_use_the_triage_queue(
    persona, expected, action, personas, org, waiting, client_for
):
    client = client_for(getattr(personas, persona) if persona else None)
    if action == "page":
        response = client.get("/mailboxes/triage")
        status = expected[0]
        assert client.post("/mailboxes/triage").status_code == (
            405 if persona == "admin" else status
        )
    elif action == "classify":
        response = client.post(
            f"/mailboxes/triage/{waiting.pk}/classify", {"classification": f"c{org.hardware.pk}"}
        )
        status = expected[1]
    else:
        response = client.post(f"/mailboxes/triage/{waiting.pk}/dismiss")
        status = expected[2]
    assert response.status_code == status
    if action != "page":
        if persona != "admin":
            assert client.get(f"/mailboxes/triage/{waiting.pk}/{action}").status_code in (
                302, 403,
            )  # fmt: skip
        changed = InboundMessage.objects.get().outcome != "triage"
        assert changed is (persona == "admin")
        assert Ticket.objects.exists() is (persona == "admin" and action == "classify")


def test_the_queue_page_costs_the_same_whatever_the_number_of_mails(
    personas, triage_box, imap_server, poll, client_for, org, django_assert_num_queries
):
    imap_server.append(
        *[fixtures.plain("requester@example.com", f"Question {n}", "Text.") for n in range(5)]
    )
    poll()
    client = client_for(personas.admin)
    client.get("/mailboxes/triage")  # warm the session and the roles
    # The one of every signed-in page (the session with its user), then the queue's count
    # and its page of rows (with their mailbox), the active categories (with their group)
    # and the active subcategories.
    with django_assert_num_queries(1 + 4):
        page = client.get("/mailboxes/triage")
    assert page.content.decode().count("Raise the ticket") == 5


def test_the_health_page_shows_where_each_mailbox_sends_new_mail(
    personas, org, triage_box, client_for
):
    Mailbox.objects.create(
        name="Laptops", address="laptops@example.com", host="127.0.0.1", port=1,
        security="none", username="x", password="p", group=org.group_x, category=org.hardware,
        subcategory=org.laptop,
    )  # fmt: skip
    html = client_for(personas.admin).get("/mailboxes").content.decode()
    assert 'data-target="triage"><a href="/mailboxes/triage">the triage queue</a>' in html
    assert "Group X › Hardware › Laptop" in html


def _admin_form(mailbox, **changes):
    form = {
        "name": "Support", "address": mailbox.address, "transport": "imap", "host": "127.0.0.1",
        "port": mailbox.port, "security": "none", "auth": "password",
        "username": mailbox.username, "password": "", "oauth_tenant": "",
        "oauth_client_id": "", "oauth_client_secret": "", "oauth_authority": "",
        "folder": "INBOX", "processed_folder": "Processed", "target": "classification",
        "group": "", "category": "", "subcategory": "", "unknown_senders": "reply",
        "allowed_domains": "", "is_active": "on",
    }  # fmt: skip
    form.update(changes)
    return form


def test_the_admin_form_takes_exactly_one_target(personas, org, mailbox, client_for):
    from portal.catalog.models import Subcategory

    salary = Subcategory.objects.create(category=org.payroll, name="Salary")
    client = client_for(personas.admin)
    url = f"/admin/mailin/mailbox/{mailbox.pk}/change/"
    refusals = [
        # The triage queue and a classification at once.
        ({"target": "triage", "group": org.group_x.pk, "category": org.hardware.pk},
         {"group", "category"}),
        # A classification without its category, or with another group's category.
        ({"group": org.group_x.pk}, {"category"}),
        ({"group": org.group_y.pk, "category": org.hardware.pk}, {"category"}),
        ({"group": org.group_x.pk, "category": org.hardware.pk,
          "subcategory": salary.pk},
         {"subcategory"}),
    ]  # fmt: skip
    for changes, fields in refusals:
        response = client.post(url, _admin_form(mailbox, **changes))
        assert response.status_code == 200, changes
        assert set(response.context["adminform"].form.errors) == fields, changes
        mailbox.refresh_from_db()
        assert (mailbox.target, mailbox.category) == ("classification", org.hardware)
    assert client.post(url, _admin_form(mailbox, target="triage")).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.target, mailbox.group, mailbox.category, mailbox.subcategory) == (
        "triage", None, None, None,
    )  # fmt: skip


def test_a_mailbox_pointing_at_half_a_classification_cannot_be_stored(org, mailbox):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(target="triage")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(category=None)


def _stored(storage) -> list[str]:
    found: list[str] = []

    def walk(prefix: str) -> None:
        dirs, names = storage.listdir(prefix)
        found.extend(f"{prefix}{name}" for name in names)
        for name in dirs:
            walk(f"{prefix}{name}/")

    walk("")
    return sorted(found)
