"""The knowledge base on the ticket page: a good answer becomes a draft article, and an
article can be linked in a reply.

The knowledge base sits below tickets: it knows nothing of tickets, so the ticket page's
actions live here, read the ticket and comment through the access layer and ask the kb's
access rules which articles fit.

The article picker (`article_picker`, `article_insert`) works like the canned-reply
picker: a search answered with buttons, then a POST that hands the comment box back with a
Markdown link appended. It offers only published articles the ticket's *requester* may
read (and the agent too), so an internal how-to can never be linked into a reply the
requester reads: the insert checks the same rule again, whatever slug is posted.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.kb import access as kb_access
from portal.kb import services as kb_services
from portal.kb.models import Article, Audience
from portal.tickets import access
from portal.tickets.forms import CommentForm
from portal.tickets.models import Comment, Ticket
from portal.tickets.services import BODY_MAX

PICKER_LIMIT = 20
QUERY_MAX = 100


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


def _worked_ticket(request: HttpRequest, number: str) -> Ticket:
    """The ticket (404 for anyone who cannot see it), for people working it (403 else)."""
    ticket = access.get_ticket_for_user(request.user, number)
    if not access.is_worker(request.user, ticket):
        raise PermissionDenied("Linking help articles is for people working this ticket.")
    return ticket


def linkable_articles(user, ticket: Ticket):
    """Published articles both the ticket's requester and `user` may read."""
    return Article.objects.suggestible_to(ticket.requester).filter(kb_access.audience_q(user))


def article_link(article: Article) -> str:
    """`[Title](https://portal/help/articles/slug)`: absolute, as replies are also emailed;
    brackets in the title are escaped so they cannot end the link text."""
    title = "".join(f"\\{ch}" if ch in "[]\\" else ch for ch in article.title)
    return f"[{title}]({settings.APP_URL}{article.get_absolute_url()})"


@never_cache
@require_GET
def article_picker(request: HttpRequest, number: str) -> HttpResponse:
    """Published articles matching `q` (title or text) that the requester may read."""
    ticket = _worked_ticket(request, number)
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    articles = linkable_articles(request.user, ticket).select_related("group", "category")
    if query:
        articles = articles.filter(Q(title__icontains=query) | Q(body__icontains=query))
    rows = list(articles.defer("body").order_by("title", "id")[: PICKER_LIMIT + 1])
    return render(
        request,
        "tickets/_article_results.html",
        {
            "ticket": ticket,
            "articles": rows[:PICKER_LIMIT],
            "more": len(rows) > PICKER_LIMIT,
            "query": query,
        },
    )


@require_POST
def article_insert(request: HttpRequest, number: str, slug: str) -> HttpResponse:
    """The comment box again: what was typed, then the article's link."""
    ticket = _worked_ticket(request, number)
    article = get_object_or_404(linkable_articles(request.user, ticket), slug=slug)
    typed = request.POST.get("body", "").rstrip()
    link = article_link(article)
    text = f"{typed}\n\n{link}" if typed else link
    form = CommentForm(initial={"body": text[:BODY_MAX]})
    form.fields["body"].widget.attrs["autofocus"] = True
    return render(
        request,
        "tickets/_article_comment_body.html",
        {"field": form["body"], "article": article, "too_long": len(text) > BODY_MAX},
    )
