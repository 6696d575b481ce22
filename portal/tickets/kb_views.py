"""A good answer on a ticket becomes a knowledge-base draft (the kb app's service).

The knowledge base sits below tickets: it knows nothing of tickets, so the ticket page's
action lives here, reads the comment through the access layer and hands its text to
`kb.services.article_create`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.kb import access as kb_access
from portal.kb import services as kb_services
from portal.kb.models import Audience
from portal.tickets import access
from portal.tickets.models import Comment


@require_POST
def comment_to_article(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A draft pre-filled from the comment, filed where the ticket is, owned by the ticket's
    team when the agent is in it (else their first team); internal notes become drafts for
    people who work tickets only. The agent lands on the draft's edit page."""
    user = request.user
    ticket = access.get_ticket_for_user(user, number)
    comment = get_object_or_404(Comment.objects.visible_to(user, ticket), pk=pk)
    if not (access.is_worker(user, ticket) and kb_access.can_create(user)):
        raise PermissionDenied("Only team members and admins working the ticket write articles.")
    team = ticket.team if kb_access.can_own(user, ticket.team_id) else None
    team = team or kb_access.owner_teams(user).order_by("name").first()
    if team is None:
        raise PermissionDenied("You are in no active team that could own the article.")
    article = kb_services.article_create(
        actor=user,
        title=ticket.title,
        body=comment.body,
        group=ticket.group,
        category=ticket.category,
        owner_team=team,
        audience=Audience.WORKERS if comment.is_internal else Audience.EVERYONE,
    )
    messages.success(request, "Draft article created from the comment: edit it, then publish.")
    return redirect(reverse("kb-article-edit", args=[article.slug]))
