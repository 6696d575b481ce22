"""Writing canned replies. Each function checks permission on the row it changes and
writes in one transaction; refusals raise `TicketError`s (InvalidInput 400,
ActionForbidden 403) and change nothing."""

from django.db import transaction
from django.utils import timezone

from portal.catalog.models import Team
from portal.replies import access
from portal.replies.models import BODY_MAX, TITLE_MAX, CannedReply
from portal.replies.placeholders import fill, unknown_placeholders
from portal.tickets import services as ticket_services
from portal.tickets.errors import ActionForbidden, InvalidInput


def _clean(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise InvalidInput("The title cannot be empty.")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"The title is too long (at most {TITLE_MAX} characters).")
    if not body:
        raise InvalidInput("The reply cannot be empty.")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"The reply is too long (at most {BODY_MAX} characters).")
    unknown = unknown_placeholders(f"{title}\n{body}")
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise InvalidInput(f"Unknown placeholder: {names}. See the list of placeholders.")
    return title, body


@transaction.atomic
def canned_reply_create(*, actor, title: str, body: str, team: Team | None = None) -> CannedReply:
    """A personal reply (no team) or a team reply (the actor leads the team, or is admin)."""
    if not access.may_have_replies(actor):
        raise ActionForbidden("Canned replies are for people who work tickets.")
    if team is not None and not (team.is_active and access.can_share_to(actor, team)):
        raise ActionForbidden("Only the team's leads and admins can add its replies.")
    title, body = _clean(title, body)
    now = timezone.now()
    return CannedReply.objects.create(
        title=title,
        body=body,
        owner=None if team is not None else actor,
        team=team,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def canned_reply_update(*, actor, reply: CannedReply, title: str, body: str) -> CannedReply:
    reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
    if not access.can_manage(actor, reply):
        raise ActionForbidden("Only its owner (team replies: the team's leads) can change it.")
    reply.title, reply.body = _clean(title, body)
    reply.updated_at = timezone.now()
    reply.save(update_fields=["title", "body", "updated_at"])
    return reply


@transaction.atomic
def canned_reply_delete(*, actor, reply: CannedReply) -> None:
    reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
    if not access.can_manage(actor, reply):
        raise ActionForbidden("Only its owner (team replies: the team's leads) can delete it.")
    reply.delete()


def canned_reply_post(*, actor, ticket, reply: CannedReply, internal: bool = False):
    """Add the reply, filled in for this ticket, as a comment (through `comment_add`,
    which checks the actor may comment and writes the history)."""
    if not access.usable_replies(actor, ticket).filter(pk=reply.pk).exists():
        raise ActionForbidden("You cannot use this reply on this ticket.")
    body = fill(reply.body, ticket=ticket, agent=actor)
    return ticket_services.comment_add(actor=actor, ticket=ticket, body=body, internal=internal)
