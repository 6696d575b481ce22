"""The triage queue: mail to a triage mailbox waits here until an admin classifies it.

A ticket is always classified (group → category, optionally a subcategory: the routing
chain, the SLA policy, the SPOCs and every report depend on it), so a mail whose
classification is not known yet does not become a half-made ticket. It is kept as read
(rawmail) on its ledger row with the outcome `triage`, the admins on triage duty are told
(answers.tell_triage), and the queue's page (`/mailboxes/triage`) lists it. Classifying it
raises the ticket from the kept mail exactly as the poller would have (same title, text,
files and checks), in the chosen classification, so the ticket is routed like one raised on
the page; the ledger row becomes `ticket` in the same transaction. A mail that should not
become a ticket is dismissed (outcome `rejected`, with who dismissed it).

Exactly once: the row is locked inside the ticket's transaction and must still be waiting,
so two admins classifying the same mail at once make one ticket (the second gets a 409).
"""

from django.core.paginator import Page, Paginator
from django.db import transaction

from portal.accounts.roles import is_admin
from portal.accounts.selectors import active_user_by_email
from portal.attachments.storage import get_storage, translated_errors
from portal.catalog.models import Category, Subcategory
from portal.lib.errors import Conflict
from portal.mailin import services
from portal.mailin.models import InboundMessage
from portal.mailin.parsing import parse
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketError

Outcome = InboundMessage.Outcome
PAGE_SIZE = 25


class NotWaiting(TicketError, Conflict):  # type: ignore[misc]  # message: str here, lazy str there
    """The mail left the queue meanwhile (classified or dismissed by someone else)."""

    status_code = 409


def waiting(*, page: int | str | None = 1) -> Page:
    """The mail waiting for triage, oldest first, one page (two queries: count and rows)."""
    rows = (
        InboundMessage.objects.filter(outcome=Outcome.TRIAGE)
        .select_related("mailbox")
        .order_by("received_at", "id")
    )
    return Paginator(rows, PAGE_SIZE).get_page(page)


def classifications() -> list[tuple[str, str]]:
    """The choices of the classify form: every active category ("c<id>") and active
    subcategory ("s<id>"), labelled "Group › Category[ › Subcategory]" (two queries)."""
    categories = (
        Category.objects.filter(is_active=True, group__is_active=True)
        .select_related("group")
        .order_by("group__name", "name")
    )
    subcategories: dict[int, list[Subcategory]] = {}
    for sub in Subcategory.objects.filter(is_active=True).order_by("name"):
        subcategories.setdefault(sub.category_id, []).append(sub)
    choices: list[tuple[str, str]] = []
    for category in categories:
        label = f"{category.group.name} › {category.name}"
        choices.append((f"c{category.pk}", label))
        choices += [
            (f"s{sub.pk}", f"{label} › {sub.name}") for sub in subcategories.get(category.pk, [])
        ]
    return choices


def resolve(choice: str) -> tuple[Category, Subcategory | None]:
    """The category and subcategory a form choice names; InvalidInput for anything else."""
    kind, pk = (choice or "")[:1], (choice or "")[1:]
    if kind in {"c", "s"} and pk.isdigit():
        if kind == "c":
            category = Category.objects.select_related("group").filter(pk=int(pk)).first()
            if category is not None:
                return category, None
        else:
            sub = Subcategory.objects.select_related("category__group").filter(pk=int(pk)).first()
            if sub is not None:
                return sub.category, sub
    raise InvalidInput("Choose a classification from the list.")


def _waiting_row(pk: int) -> InboundMessage:
    row = InboundMessage.objects.select_related("mailbox").filter(pk=pk).first()
    if row is None:
        raise InboundMessage.DoesNotExist
    if row.outcome != Outcome.TRIAGE:
        raise NotWaiting(_left_queue(row))
    return row


def _left_queue(row: InboundMessage) -> str:
    by = f" by {row.decided_by}" if row.decided_by is not None else ""
    if row.outcome == Outcome.TICKET and row.ticket is not None:
        return f"This mail was classified meanwhile{by}: it is ticket {row.ticket.number}."
    if row.outcome == Outcome.REJECTED and by:
        return f"This mail was dismissed meanwhile{by}."
    return "This mail is no longer waiting for triage."


def _lock_waiting(pk: int) -> None:
    """Inside the ticket's transaction: the row must still be waiting (the other admin's
    ticket, if any, rolls this one back)."""
    row = InboundMessage.objects.select_for_update().filter(pk=pk).first()
    if row is None or row.outcome != Outcome.TRIAGE:
        raise NotWaiting(_left_queue(row) if row else "This mail is no longer in the ledger.")


def inbound_triage_classify(
    *, actor, message_pk: int, category: Category, subcategory: Subcategory | None
):
    """Raise the ticket of a mail waiting for triage, in the given classification; returns
    the ticket. Nothing is written when the classification is not in use (InvalidInput),
    the sender's account is gone (InvalidInput), or the mail left the queue (NotWaiting)."""
    if not is_admin(actor):
        raise ActionForbidden("Only admins classify the mail in the triage queue.")
    row = _waiting_row(message_pk)
    requester = active_user_by_email(row.sender)
    if requester is None:
        raise InvalidInput(
            f"{row.sender} no longer has an active account; dismiss this mail instead."
        )
    # The kept mail is read before any transaction opens (no network call inside one); a
    # storage that fails is StorageUnavailable (the page's 503), not a crash.
    with translated_errors("read the kept mail"), get_storage().open(row.raw_key, "rb") as stored:
        parsed = parse(stored.read())
    services.raise_ticket(
        row, parsed, requester, group=category.group, category=category,
        subcategory=subcategory, how="classified from the triage queue",
        before_record=lambda: _lock_waiting(row.pk), decided_by=actor,
    )  # fmt: skip
    return row.ticket


@transaction.atomic
def inbound_triage_dismiss(*, actor, message_pk: int) -> InboundMessage:
    """Take a mail out of the queue without a ticket (spam, sent to the wrong address):
    recorded as rejected, with who dismissed it; the kept mail stays for the admins."""
    if not is_admin(actor):
        raise ActionForbidden("Only admins dismiss the mail in the triage queue.")
    _waiting_row(message_pk)
    _lock_waiting(message_pk)
    row = InboundMessage.objects.get(pk=message_pk)
    row.outcome, row.detail = Outcome.REJECTED, "Dismissed from the triage queue."
    row.decided_by = actor
    row.save(update_fields=["outcome", "detail", "decided_by"])
    return row
