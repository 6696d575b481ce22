"""Hand-made messages as real mail clients and servers write them, raw bytes for IMAP APPEND.

Each builder returns the message exactly as a mailbox would hold it. Headers that matter
to matching (Message-ID, In-Reply-To, References) are parameters, so a test can answer a
notification the portal really sent.
"""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from portal.attachments.tests.files import pdf, png

SUPPORT = "support@example.com"
DATE = "Fri, 04 Dec 2026 09:15:00 +0000"


def _base(sender, subject, *, message_id=None, in_reply_to="", references="", date=DATE):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = date or format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    return message


def plain(sender, subject, body, **headers) -> bytes:
    message = _base(sender, subject, **headers)
    message.set_content(body)
    return bytes(message)


def with_files(sender, subject, body, files: list[tuple[str, bytes, str]], **headers) -> bytes:
    message = _base(sender, subject, **headers)
    message.set_content(body)
    for name, data, mime in files:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def good_files():
    return [("photo.png", png(), "image/png"), ("invoice.pdf", pdf(), "application/pdf")]


def oversized_and_program(size: int):
    return [
        ("huge.pdf", pdf(b"%" + b"x" * size), "application/pdf"),
        ("setup.exe", b"MZ" + b"\0" * 100, "application/octet-stream"),
        ("photo.png", png(), "image/png"),
    ]


def outlook_reply(sender, subject, *, in_reply_to, references) -> bytes:
    """Outlook desktop: the new text, then the original under a From/Sent/To block."""
    body = (
        "Thanks, it works again after the restart.\r\n"
        "\r\n"
        "Emma\r\n"
        "\r\n"
        "________________________________\r\n"
        "From: Ticketing Portal <portal@localhost>\r\n"
        "Sent: Friday, December 4, 2026 9:00 AM\r\n"
        "To: Emma Employee <requester@example.com>\r\n"
        f"Subject: {subject}\r\n"
        "\r\n"
        "Hello Emma, please restart the laptop and tell us if it still beeps.\r\n"
    )
    return plain(sender, f"RE: {subject}", body, in_reply_to=in_reply_to, references=references)


def gmail_html_reply(sender, subject, *, in_reply_to, references) -> bytes:
    """Gmail: text and HTML alternatives; the quote in a gmail_quote div and blockquote."""
    message = _base(sender, f"Re: {subject}", in_reply_to=in_reply_to, references=references)
    message.set_content(
        "Still beeping, see below.\n\nOn Fri, 4 Dec 2026 at 09:00, Ticketing Portal <\n"
        "portal@localhost> wrote:\n\n> Hello, please restart the laptop.\n"
    )
    message.add_alternative(
        '<div dir="ltr">Still <b>beeping</b>, see below.</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">On Fri, 4 Dec 2026 at 09:00, '
        "Ticketing Portal &lt;portal@localhost&gt; wrote:<br></div>"
        "<blockquote>Hello, please restart the laptop.</blockquote></div>",
        subtype="html",
    )
    return bytes(message)


def html_only_with_script(sender, subject) -> bytes:
    message = _base(sender, subject)
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert('mail')</script></head>"
        '<body><p onclick="steal()">The <b>VPN</b> drops every hour.</p>'
        '<p><a href="javascript:alert(1)">click</a> <a href="https://status.example/vpn">status'
        '</a></p><img src="https://tracker.example/p.gif" onerror="alert(2)"></body></html>',
        subtype="html",
    )
    return bytes(message)


def latin1(sender, subject) -> bytes:
    """A non-UTF-8 body (ISO-8859-1, quoted-printable) and an encoded-word subject."""
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: =?iso-8859-1?q?Imprimante_cass=E9e?=\r\n"
        f"Date: {DATE}\r\nMessage-ID: <latin1-1@client.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "L'imprimante du 3=E8me =E9tage ne r=E9pond plus. Merci d'avance, Ren=E9e\r\n"
    ).encode("ascii")


def unknown_charset(sender) -> bytes:
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Odd charset\r\nDate: {DATE}\r\n"
        "Message-ID: <odd-1@client.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + "Caf\u00e9 machine is broken\r\n".encode("cp1252")


def exchange_out_of_office(sender, subject, *, in_reply_to) -> bytes:
    message = _base(sender, f"Automatic reply: {subject}", in_reply_to=in_reply_to)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content("I am out of the office until Monday.")
    return bytes(message)


def out_of_office_without_headers(sender, subject, *, in_reply_to) -> bytes:
    """An auto-responder that marks nothing: only the caps stop it."""
    return plain(
        sender, f"Away: {subject}", "I am away (automatic answer).", in_reply_to=in_reply_to
    )


def list_mail(sender) -> bytes:
    message = _base(sender, "[it-announce] Maintenance on Saturday")
    message["List-Id"] = "<it-announce.lists.example.com>"
    message["List-Unsubscribe"] = "<mailto:leave@lists.example.com>"
    message["Precedence"] = "list"
    message.set_content("The network is down from 8 to 10.")
    return bytes(message)


def dsn_5_1_1(original_to: str, *, original_message_id: str = "") -> bytes:
    """A delivery status notification for a mail the portal sent to a dead address; with
    `original_message_id`, it returns the failed mail's headers (text/rfc822-headers) as
    RFC 3464 reports do."""
    returned = (
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Portal <portal@example.com>\r\nTo: {original_to}\r\n"
        f"Subject: [TKT-000001] Update\r\nMessage-ID: {original_message_id}\r\n"
        if original_message_id
        else ""
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {DATE}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.com')}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; {original_to}\r\n"
        f"Action: failed\r\nStatus: 5.1.1\r\n{returned}--b1--\r\n"
    ).encode("ascii")
