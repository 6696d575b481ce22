"""Who may use and manage which canned replies.

- Use: anyone working the ticket (`tickets.access.is_worker`) picks from their personal
  replies, the replies of the teams they are an active member of, and the replies of the
  ticket's own team (so a SPOC or an admin answering a team's ticket has its answers).
- See on the management page: their personal replies and the replies of their teams, and
  for admins every team's.
- Manage (create, edit, delete): personal replies by their owner only (not even admins:
  they are someone's own words); team replies by the team's leads and admins.
Anyone else gets 404 for a reply they may not see, 403 for one they see but may not change.
Creating any reply needs a worker role (member, lead, SPOC or admin).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from portal.accounts.roles import works_tickets
from portal.catalog.models import Team
from portal.replies.models import CannedReply
from portal.tickets import access as ticket_access

NOTHING = Q(pk__in=[])


def may_have_replies(user) -> bool:
    """Whether the user works tickets at all (requesters have no canned replies)."""
    return works_tickets(user)


def _seen_q(user) -> Q:
    reach = ticket_access.reach_of(user)
    if reach.user_id is None:
        return NOTHING
    scope = Q(owner_id=reach.user_id)
    if reach.everything:
        return scope | Q(team__isnull=False)
    return scope | Q(team_id__in=reach.team_ids)


def visible_replies(user) -> QuerySet[CannedReply]:
    """The replies on the user's management page."""
    return CannedReply.objects.filter(_seen_q(user)).select_related("team")


def usable_replies(user, ticket) -> QuerySet[CannedReply]:
    """The replies the user may insert on this ticket (none unless they work it)."""
    if not ticket_access.is_worker(user, ticket):
        return CannedReply.objects.none()
    reach = ticket_access.reach_of(user)
    scope = Q(owner_id=reach.user_id) | Q(team_id__in=reach.team_ids)
    if ticket.team_id is not None:
        scope |= Q(team_id=ticket.team_id)
    return CannedReply.objects.filter(scope).select_related("team")


def shareable_teams(user) -> QuerySet[Team]:
    """Teams the user may keep team replies for: those they lead; every team for admins."""
    reach = ticket_access.reach_of(user)
    if reach.everything:
        return Team.objects.active()
    return Team.objects.active().filter(pk__in=reach.lead_team_ids)


def can_manage(user, reply: CannedReply) -> bool:
    reach = ticket_access.reach_of(user)
    if reach.user_id is None:
        return False
    if reply.owner_id is not None:
        return reply.owner_id == reach.user_id
    return reach.everything or reply.team_id in reach.lead_team_ids


def can_share_to(user, team: Team) -> bool:
    reach = ticket_access.reach_of(user)
    return reach.user_id is not None and (reach.everything or team.pk in reach.lead_team_ids)


def get_reply_for_user(user, pk: int, *, manage: bool = False) -> CannedReply:
    """One reply the user may see (404 otherwise); with `manage`, one they may change (403)."""
    reply = visible_replies(user).filter(pk=pk).first()
    if reply is None:
        raise Http404("No such canned reply.")
    if manage and not can_manage(user, reply):
        raise PermissionDenied("Only its owner (team replies: the team's leads) can change it.")
    return reply


def get_usable_reply(user, ticket, pk: int) -> CannedReply:
    reply = usable_replies(user, ticket).filter(pk=pk).first()
    if reply is None:
        raise Http404("No such canned reply.")
    return reply
