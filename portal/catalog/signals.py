"""What master-data services tell the apps above them, inside the change's transaction.

The catalog sits below tickets and must not import it; the tickets app connects to these
signals (as analytics connects to `tickets.signals.ticket_changed`) to re-route open
tickets through the routing chain when the people who could act on them go away.

- `member_left(team, user)`: a membership ended (deactivated or removed); sent only when
  it was active.
- `spocs_removed(group, users)`: these users are no longer SPOCs of the group.
"""

from django.dispatch import Signal

member_left = Signal()
spocs_removed = Signal()
