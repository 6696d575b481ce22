"""Reading mail without a server: quoted history, HTML, titles, env mailbox, the task."""

import pytest

from portal.mailin import services, tasks
from portal.mailin.html import html_to_markdown
from portal.mailin.models import Mailbox
from portal.mailin.parsing import parse
from portal.mailin.quotes import strip_quoted
from portal.mailin.tests import fixtures


@pytest.mark.parametrize(
    "reply, expected",
    [
        (
            "Fixed, thanks.\n\nOn Fri, 4 Dec 2026 at 09:00, Portal <p@x> wrote:\n> old",
            "Fixed, thanks.",
        ),
        ("Fixed.\n\nOn Fri, 4 Dec 2026 at 09:00, Portal <\np@x> wrote:\n> old", "Fixed."),
        ("Yes.\n-----Original Message-----\nFrom: P\nSent: today\n\nold", "Yes."),
        ("Yes.\n\nFrom: Portal <p@x>\nSent: Friday\nTo: me\nSubject: s\n\nold", "Yes."),
        ("Merci.\n\nLe ven. 4 déc. 2026 à 09:00, Portal <p@x> a écrit :\n> old", "Merci."),
        ("Danke.\n\nAm Fr., 4. Dez. 2026 um 09:00 Uhr schrieb Portal <p@x>:\n> old", "Danke."),
        ("Answer.\n\n> quoted one\n>\n> quoted two\n", "Answer."),
        ("Answer.\n-- \nEmma, IT", "Answer."),
        ("From: the start of my own text is not a header block\nreally.", None),
        ("> I only typed inside the quote", None),
    ],
)
def test_quoted_history_is_cut_and_own_text_is_never_lost(reply, expected):
    assert strip_quoted(reply) == (expected if expected is not None else reply.strip())


def test_html_keeps_structure_and_drops_everything_active():
    markdown = html_to_markdown(
        "<p>Hi <strong>all</strong></p><ol><li>one</li><li>two</li></ol>"
        "<blockquote>said before</blockquote><script>bad()</script>"
        '<a href="https://x.example/a_b">the_link</a>'
    )
    assert markdown == (
        "Hi **all**\n\n1. one\n2. two\n\n> said before\n\n[the\\_link](https://x.example/a_b)"
    )


def test_the_title_drops_reply_prefixes_and_tags():
    parsed = parse(fixtures.plain("a@b.example", "RE: AW: [TKT-000042] Printer", "x"))
    assert services.ticket_title(parsed) == "Printer"
    assert services.ticket_title(parse(fixtures.plain("Ann <a@b.example>", "", "x"))) == (
        "Email from Ann"
    )


def test_the_content_hash_ignores_transport_but_not_content():
    one = parse(fixtures.plain("a@b.example", "S", "body", message_id="<1@x>"))
    resent = parse(fixtures.plain("A@B.example", "S", "body", message_id="<1@x>"))
    other = parse(fixtures.plain("a@b.example", "S", "other body", message_id="<1@x>"))
    assert one.content_hash == resent.content_hash != other.content_hash


@pytest.mark.django_db
def test_the_environment_mailbox_is_created_and_kept_in_step(org, settings):
    settings.INBOUND_IMAP = {
        "HOST": "imap.example.com", "PORT": 993, "SECURITY": "ssl", "USER": "Help@Example.com",
        "PASSWORD": "app-password", "ADDRESS": "", "FOLDER": "INBOX",
        "PROCESSED_FOLDER": "Processed", "GROUP": "x", "CATEGORY": "hardware",
        "UNKNOWN_SENDERS": "refuse",
    }  # fmt: skip
    mailbox = services.mailbox_sync_from_env()
    assert (mailbox.address, mailbox.group, mailbox.category) == (
        "help@example.com", org.group_x, org.hardware,
    )  # fmt: skip
    assert mailbox.from_env and mailbox.unknown_senders == "refuse"
    settings.INBOUND_IMAP = {**settings.INBOUND_IMAP, "PORT": 1993}
    services.mailbox_sync_from_env()
    assert Mailbox.objects.get().port == 1993
    settings.INBOUND_IMAP = {
        **settings.INBOUND_IMAP, "AUTH": "m365", "OAUTH_TENANT": "contoso",
        "OAUTH_CLIENT_ID": "app-id", "OAUTH_CLIENT_SECRET": "app-secret",
        "UNKNOWN_SENDERS": "create", "ALLOWED_DOMAINS": "example.com",
    }  # fmt: skip
    services.mailbox_sync_from_env()
    mailbox = Mailbox.objects.get()
    assert (mailbox.auth, mailbox.oauth_tenant, mailbox.oauth_client_secret) == (
        "m365", "contoso", "app-secret",
    )  # fmt: skip
    assert (mailbox.unknown_senders, mailbox.allowed_domains) == ("create", "example.com")


@pytest.mark.django_db
def test_the_periodic_task_polls_every_active_mailbox(personas, mailbox, imap_server, settings):
    settings.INBOUND_IMAP = {"HOST": ""}
    imap_server.append(fixtures.plain("requester@example.com", "From the task", "x"))
    assert tasks.poll_mailboxes.call() == {"ticket": 1}
    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None and mailbox.last_uid > 0
