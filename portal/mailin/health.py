"""What the mailbox health page shows: each mailbox's state and its message counts.

Two queries whatever the number of mailboxes: the mailboxes, then the ledger counted by
mailbox and outcome (all time, and the last 24 hours) in one GROUP BY.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.watcher import is_watched

RECENT = dt.timedelta(hours=24)
# A token that expires within this is shown as about to (the poller renews it before).
TOKEN_SOON = dt.timedelta(minutes=10)


@dataclass
class MailboxHealth:
    mailbox: Mailbox
    total: int = 0
    recent: int = 0
    # (outcome label, count in the last 24 h, count in all) for the outcomes seen.
    by_outcome: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def state(self) -> str:
        """ "ok", "failing", "never" (not polled yet) or "off"."""
        box = self.mailbox
        if not box.is_active:
            return "off"
        if box.failures_in_a_row:
            return "failing"
        return "ok" if box.last_success_at else "never"

    def watching(self, now: dt.datetime) -> bool:
        """A worker holds the mailbox in IMAP IDLE (else it is polled)."""
        return is_watched(self.mailbox, now)

    def token_state(self, now: dt.datetime) -> str:
        """For Microsoft 365 mailboxes: "none", "expired", "soon" or "valid"."""
        expires = self.mailbox.token_expires_at
        if expires is None:
            return "none"
        if expires <= now:
            return "expired"
        return "soon" if expires - now <= TOKEN_SOON else "valid"


def mailbox_health(*, now: dt.datetime | None = None) -> list[MailboxHealth]:
    now = now or timezone.now()
    boxes = Mailbox.objects.select_related("group", "category", "subcategory")
    rows = {box.pk: MailboxHealth(box) for box in boxes.order_by("name", "pk")}
    counts = (
        InboundMessage.objects.values("mailbox_id", "outcome")
        .annotate(total=Count("id"), recent=Count("id", filter=Q(received_at__gte=now - RECENT)))
        .order_by()
    )
    labels = dict(InboundMessage.Outcome.choices)
    outcomes: dict[int, list] = defaultdict(list)
    for item in counts:
        health = rows.get(item["mailbox_id"])
        if health is None:
            continue
        health.total += item["total"]
        health.recent += item["recent"]
        outcomes[item["mailbox_id"]].append(
            (labels.get(item["outcome"], item["outcome"]), item["recent"], item["total"])
        )
    for pk, items in outcomes.items():
        rows[pk].by_outcome = sorted(items, key=lambda item: -item[2])
    return list(rows.values())
