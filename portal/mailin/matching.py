"""Which ticket a message belongs to, in a fixed order (docs/email-in.md):

1. a Message-ID the portal signed, in In-Reply-To or References (its signature holds, so it
   names the ticket whoever sends the reply);
2. a Message-ID the portal knows from earlier mail it read (someone answers the mail that
   raised the ticket, or copies the support address into an existing conversation);
3. the `[TKT-000123]` tag in the subject, but only when the sender is that ticket's
   requester, one of its watchers, or someone who works on it: a stranger's tag (forged,
   or copied from a forwarded mail) never lands on someone else's ticket;
4. otherwise none: the message raises a new ticket.

The duplicate check comes before all of this (services). Reads only.
"""

import re
from dataclasses import dataclass

from portal.lib.emails import verify_message_id
from portal.mailin.models import InboundMessage
from portal.mailin.parsing import ParsedMail
from portal.notifications.models import EmailDelivery
from portal.tickets import access
from portal.tickets.models import Comment, Ticket, parse_number

_TAG = re.compile(r"\[\s*(TKT-\d{1,12})\s*\]", re.IGNORECASE)
_THREAD_KEY = re.compile(r"^tkt-(\d{1,12})$")


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    how: str  # "signed", "known" or "tag"
    parent_id: str = ""  # the Message-ID that matched (for "signed" and "known")


def find_ticket(parsed: ParsedMail, *, sender_user) -> Match | None:
    match = _find(parsed, sender_user)
    # A merged ticket (closed, `merged_into` set) answers as the ticket it was merged into:
    # replies to the duplicate's mail land where the work goes on. Who may write there is
    # decided on the survivor, as for any match (someone who cannot see it leaves an
    # unverified internal note). A survivor merged in turn is followed, a few steps at most.
    # See docs/working-faster.md#merging-tickets.
    for _step in range(5):
        if match is None or match.ticket.merged_into_id is None:
            break
        survivor = _ticket(match.ticket.merged_into_id)
        if survivor is None:
            break
        match = Match(survivor, match.how, match.parent_id)
    return match


def _find(parsed: ParsedMail, sender_user) -> Match | None:
    for mid in parsed.thread_ids:
        signed = verify_message_id(mid)
        if signed is None:
            continue
        key = _THREAD_KEY.match(signed.thread_key)
        ticket = _ticket(int(key.group(1))) if key else None
        if ticket is not None:
            return Match(ticket, "signed", mid)
    if parsed.thread_ids:
        known = (
            InboundMessage.objects.filter(
                message_id__in=parsed.thread_ids[:50],
                outcome__in=InboundMessage.WROTE,
                ticket__isnull=False,  # a mail still in the triage queue has no ticket yet
            )
            .order_by("-received_at")
            .values_list("ticket_id", "message_id")
            .first()
        )
        if known is not None and (ticket := _ticket(known[0])) is not None:
            return Match(ticket, "known", known[1])
    return _by_tag(parsed, sender_user)


def _ticket(pk: int) -> Ticket | None:
    return access.with_related(access.system_read(Ticket).filter(pk=pk)).first()


def _by_tag(parsed: ParsedMail, sender_user) -> Match | None:
    found = _TAG.search(parsed.subject)
    if found is None or sender_user is None:
        return None
    pk = parse_number(found.group(1))
    ticket = _ticket(pk) if pk else None
    if ticket is None or not is_involved(sender_user, ticket):
        return None
    return Match(ticket, "tag")


def is_involved(user, ticket: Ticket) -> bool:
    """The requester, a watcher who may still see it, or someone who works on it."""
    if user.pk == ticket.requester_id or access.is_worker(user, ticket):
        return True
    watching = ticket.watchers.filter(pk=user.pk)
    return access.users_who_can_view(ticket, watching).exists()


def answers_internal_note(match: Match) -> bool:
    """Whether the mail answered is the notification of an internal note: a worker's reply
    to it stays internal."""
    if match.how != "signed":
        return False
    event_key = (
        EmailDelivery.objects.filter(message_id=match.parent_id)
        .values_list("event_key", flat=True)
        .first()
    )
    parts = (event_key or "").split(":")
    if len(parts) != 4 or parts[2] != "comment" or not parts[3].isdigit():
        return False
    return (
        access.system_read(Comment)
        .filter(pk=int(parts[3]), ticket_id=match.ticket.pk, is_internal=True)
        .exists()
    )
