"""Email in by an inbound webhook: a provider (Mailgun, Postmark) receives the mail and posts
each message to the portal, through django-anymail's inbound views.

Off unless configured: an endpoint answers 404 until its secret is set (settings.ANYMAIL:
Mailgun's webhook signing key, Postmark's basic-auth WEBHOOK_SECRET). A post is checked by
anymail (signature or basic auth; a forged one is a 400 and nothing is read further), its
message is handed to the mailbox (`transport=webhook`) whose address it was sent to, and
from there it goes through exactly the pipeline the IMAP poller uses
(`services.inbound_message_process`): ledger, duplicate check, loops, caps, matching, the
raw mail kept with its sha256, one transaction per message.

The ledger's position for a posted message is (UIDVALIDITY 0, a number derived from the
provider's event id, else from the message's bytes), so the provider's retry of a post
already written finds its row and writes nothing; the content hash catches the same mail
posted under another id. The answer is 200 once the message is written (or recorded as
refused), 503 when the database or the storage failed (nothing was written: the provider
retries, so nothing is lost), 4xx for a post that can never succeed.
"""

import hashlib
import logging
from email import encoders

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from portal.attachments.storage import StorageUnavailable
from portal.lib.db import DATABASE_ERRORS
from portal.mailin import services
from portal.mailin.models import InboundMessage, Mailbox
from portal.tickets.errors import TicketError

log = logging.getLogger("portal.mailin")
WEBHOOK_UIDVALIDITY = 0  # no IMAP folder: every posted message shares this "validity"
_BAD_PAYLOAD = (
    AnymailConfigurationError, KeyError, ValueError, TypeError, UnicodeDecodeError,
)  # fmt: skip


def _problem(status: int, detail: str) -> HttpResponse:
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class _Inbound:
    """What the portal adds to an anymail inbound view: the size limit, clear 4xx answers,
    and the portal's pipeline instead of anymail's signal."""

    esp_name: str

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limit = int(getattr(settings, "INBOUND_MAX_MESSAGE_BYTES", 30 * 1024 * 1024))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _problem(400, "Bad Content-Length.")
        if length > limit:
            return _problem(413, f"The post is {length} bytes; the limit is {limit}.")
        try:
            self.run_validators(request)  # type: ignore[attr-defined]
        except AnymailWebhookValidationFailure as refusal:
            log.warning("inbound webhook refused", extra={"esp": self.esp_name})
            return _problem(400, str(refusal))
        except RequestDataTooBig:
            return _problem(413, "The post is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.")
        try:
            events = self.parse_events(request)  # type: ignore[attr-defined]
        except RequestDataTooBig:
            return _problem(413, "The post is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.")
        except _BAD_PAYLOAD as error:
            return _problem(400, f"Not an inbound message post: {error.__class__.__name__}.")
        outcomes = []
        for event in events:
            answer = receive(event, esp_name=self.esp_name)
            if isinstance(answer, HttpResponse):
                return answer
            outcomes.append(answer.outcome)
        return JsonResponse({"outcomes": outcomes})


class MailgunInbound(_Inbound, MailgunInboundWebhookView):
    pass


class PostmarkInbound(_Inbound, PostmarkInboundWebhookView):
    pass


def _configured(*names: str) -> bool:
    conf = getattr(settings, "ANYMAIL", None) or {}
    return all(conf.get(name) for name in names)


@csrf_exempt
@login_not_required
def mailgun_inbound(request: HttpRequest) -> HttpResponse:
    """Mailgun's route action forward("…/mail/inbound/mailgun/"), parsed or raw MIME."""
    if not _configured("MAILGUN_WEBHOOK_SIGNING_KEY"):
        return _problem(404, "The Mailgun inbound webhook is not configured.")
    return MailgunInbound.as_view()(request)


@csrf_exempt
@login_not_required
def postmark_inbound(request: HttpRequest) -> HttpResponse:
    """Postmark's inbound webhook URL (https://user:password@…/mail/inbound/postmark/)."""
    if not _configured("WEBHOOK_SECRET"):
        return _problem(404, "The Postmark inbound webhook is not configured.")
    return PostmarkInbound.as_view()(request)


def _recipients(message) -> list[str]:
    found = [message.envelope_recipient or ""]
    for header in ("To", "Cc", "Delivered-To", "X-Original-To"):
        found += [address.addr_spec for address in message.get_address_header(header)]
    return [address.lower() for address in found if address]


def _mailbox_for(message) -> Mailbox | None:
    recipients = _recipients(message)
    boxes = {
        box.address.lower(): box
        for box in Mailbox.objects.filter(
            transport=Mailbox.Transport.WEBHOOK, is_active=True, address__in=recipients
        )
    }
    return next((boxes[address] for address in recipients if address in boxes), None)


def _raw_bytes(message) -> bytes:
    """The message as bytes. A message anymail built from a provider's parsed fields
    (Mailgun's form, Postmark without RawEmail) holds its files as raw binary parts with no
    transfer encoding, which serialising would mangle (line endings): they are base64-encoded
    first. A message posted as raw MIME has its encodings already and is left as it is."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "text":
            continue
        if part.get("Content-Transfer-Encoding"):
            continue
        data = part.get_payload(decode=True)
        part.set_payload(data)
        encoders.encode_base64(part)
    return message.as_bytes()


def position(*, esp_name: str, event_id: str | None, raw: bytes) -> int:
    """The ledger "UID" of a posted message: stable across the provider's retries."""
    key = f"{esp_name}:{event_id}".encode() if event_id else raw
    return int.from_bytes(hashlib.sha256(key).digest()[:7], "big")


def receive(event, *, esp_name: str) -> InboundMessage | HttpResponse:
    """One posted message through the pipeline; an HttpResponse when it cannot be taken."""
    message = event.message
    mailbox = _mailbox_for(message)
    if mailbox is None:
        # 406: Mailgun drops the message without retrying; the address is not served here.
        return _problem(406, "No webhook mailbox of the portal has this recipient address.")
    raw = _raw_bytes(message)
    uid = position(esp_name=esp_name, event_id=event.event_id, raw=raw)
    try:
        row = services.inbound_message_process(
            mailbox=mailbox, uidvalidity=WEBHOOK_UIDVALIDITY, uid=uid, raw=raw
        )
    except (*DATABASE_ERRORS, StorageUnavailable) as exc:
        return _retry_later(mailbox, exc)
    except TicketError as exc:
        if getattr(exc, "status_code", 400) >= 500:
            return _retry_later(mailbox, exc)
        row = _failed(mailbox, uid, raw, exc)
    except Exception as exc:  # noqa: BLE001  (recorded with its error, for the admins)
        log.exception("inbound webhook message failed", extra={"mailbox": mailbox.pk})
        row = _failed(mailbox, uid, raw, exc)
    services.mailbox_poll_succeeded(mailbox=mailbox, now=timezone.now())
    return row


def _failed(mailbox: Mailbox, uid: int, raw: bytes, exc: BaseException) -> InboundMessage:
    """A message the processing could not handle (not the database, not the storage):
    recorded as rejected with its error, so the provider does not post it for ever."""
    return services.inbound_message_failed(
        mailbox=mailbox, uidvalidity=WEBHOOK_UIDVALIDITY, uid=uid, raw=raw, error=exc
    )


def _retry_later(mailbox: Mailbox, exc: BaseException) -> HttpResponse:
    """Nothing was written (the transaction rolled back): the provider posts it again."""
    error = f"{exc.__class__.__name__}: {exc}"
    services.mailbox_poll_failed(mailbox=mailbox, error=error, now=timezone.now())
    response = _problem(503, "The portal cannot store mail right now; post it again later.")
    response["Retry-After"] = "60"
    return response
