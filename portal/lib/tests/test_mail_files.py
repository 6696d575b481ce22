"""Development mail: each message its own .eml file, readable by a mail client."""

import email
from email import policy

from django.core import mail


def _use_eml_files(settings, folder):
    settings.MAILERS = {
        "default": {"BACKEND": "portal.lib.mail_files.EmlFileBackend",
                    "OPTIONS": {"file_path": str(folder)}},
    }  # fmt: skip


def test_each_message_is_its_own_eml_file_a_mail_client_can_parse(settings, tmp_path):
    _use_eml_files(settings, tmp_path / "mail")
    messages = [
        mail.EmailMultiAlternatives(
            subject=f"Ticket TKT-00000{n} was updated",
            body=f"Plain body {n} — ünïcode",
            from_email="portal@localhost",
            to=[f"person{n}@example.com"],
        )
        for n in (1, 2)
    ]
    messages[0].attach_alternative("<p>HTML body 1</p>", "text/html")

    assert mail.mailers["default"].send_messages(messages) == 2

    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    parsed = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert sorted(m["To"] for m in parsed) == ["person1@example.com", "person2@example.com"]
    first = next(m for m in parsed if m["To"] == "person1@example.com")
    assert first["Subject"] == "Ticket TKT-000001 was updated"
    assert first.get_body(("plain",)).get_content().strip() == "Plain body 1 — ünïcode"
    assert first.get_body(("html",)).get_content().strip() == "<p>HTML body 1</p>"
