"""Outbox rows as the worker leaves them before sending: each queued message written."""

from collections.abc import Iterable

from django.utils import timezone

from portal.notifications import delivery
from portal.notifications.models import EmailDelivery


def written(rows: Iterable[EmailDelivery]) -> list[EmailDelivery]:
    """`rows` with each message written and stored as the worker does before its first
    attempt (`delivery.write_message`): subject and bodies as they will be sent."""
    rows = list(rows)
    for row in rows:
        if row.pending is not None:
            delivery.write_message(row, now=timezone.now())
    return rows
