"""Re-route open tickets when the people who could act on them go away.

The catalog sends `member_left` and `spocs_removed` (catalog/signals.py) inside the change's
transaction; the receivers here pick the affected open tickets, lock them, and send each
through the routing chain again (`services.ticket_reroute`), so the change to master data,
the tickets' new holders, their history and the messages commit together.

- A member leaves a team: their open tickets of that team go to the chain (another member,
  the lead, then the SPOCs or triage). If the team is left with nobody, its open tickets
  waiting to be taken go on to the SPOCs or triage as well.
- An account is deactivated (accounts.services.user_deactivated): as if the person left
  every team at once; their open tickets of any team go through the chain again.
- SPOCs are removed from a group: the group's open tickets that wait with no team member
  able to take them go to the SPOCs who remain (a SPOC named in the same change was never
  told about them), or, with none left, to the admins on triage duty.

These are system jobs: they read tickets directly (there is no user whose access applies).
"""

from django.db.models import Q

from portal.catalog.coverage import staffed
from portal.catalog.models import Team
from portal.tickets import routing, services
from portal.tickets.models import OPEN_STATUSES, Ticket


def _locked(condition: Q) -> list[Ticket]:
    return list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "assignee", "group", "team")
        .filter(condition, status__in=OPEN_STATUSES)
        .order_by("id")
    )


def member_left(sender, *, team, user, **kwargs) -> int:
    return _left(teams=[team], user=user, held=Q(team=team), cause=f"{user} left {team.name}")


def user_deactivated(sender, *, user, **kwargs) -> int:
    """An account was deactivated: every open ticket it held, and the teams it leaves with
    nobody in them (its memberships stay, but an inactive account cannot take tickets)."""
    teams = list(Team.objects.filter(members__user=user, members__is_active=True))
    return _left(teams=teams, user=user, held=Q(), cause=f"{user}'s account was deactivated")


def _left(*, teams, user, held: Q, cause: str) -> int:
    done = []
    for ticket in _locked(held & Q(assignee=user)):
        services.ticket_reroute(ticket=ticket, cause=cause)
        done.append(ticket.pk)
    for team in teams:
        if not Team.objects.filter(pk=team.pk).filter(staffed(team.pk)).exists():
            # Tickets waiting to be taken had people who could take them; now nobody.
            for ticket in _locked(Q(team=team, assignee__isnull=True) & ~Q(pk__in=done)):
                services.ticket_reroute(ticket=ticket, cause=cause)
                done.append(ticket.pk)
    return len(done)


def spocs_removed(sender, *, group, users, **kwargs) -> int:
    names = ", ".join(str(user) for user in users)
    cause = f"{names} {'is' if len(users) == 1 else 'are'} no longer SPOC of {group.name}"
    count = 0
    for ticket in _locked(Q(group=group) & routing.waiting_in_no_team_q()):
        services.ticket_reroute(ticket=ticket, cause=cause)
        count += 1
    return count
