"""Who sees and edits which article: the only place that decides it.

Every route (the /help pages, search, the new-ticket suggestions, the API, the ticket
page's "make an article" action) reads articles through `Article.objects.visible_to(user)`
/ `suggestible_to(user)` or `get_article_for_user`, and asks `can_edit` / `can_create`.

- Published articles for *everyone* reach every signed-in, active person.
- Published articles for *workers* reach people who work tickets (admins, SPOCs of an
  active group, members of an active team), the same people as
  `accounts.roles.Roles.works_tickets`; the condition is part of the article query itself
  (EXISTS subqueries), so the suggestion box costs one query and needs no role lookups.
  `tests/test_access.py` checks both definitions agree for every persona.
- Drafts reach the owner team's members and admins only.
- Anyone else gets a 404, exactly as for an article that does not exist.
"""

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from portal.accounts.roles import user_roles
from portal.catalog.models import BusinessUnitGroup, TeamMember

NOTHING = Q(pk__in=[])


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _memberships(user):
    return TeamMember.objects.filter(user_id=user.pk, is_active=True, team__is_active=True)


def _works_tickets_q(user) -> Q:
    """SQL for "works tickets": a SPOC of an active group or a member of an active team
    (admins are decided before, from the loaded user row)."""
    spoc = BusinessUnitGroup.spocs.through.objects.filter(
        user_id=user.pk, businessunitgroup__is_active=True
    )
    return Q(Exists(_memberships(user))) | Q(Exists(spoc))


def audience_q(user) -> Q:
    """Published articles `user` may read (without the status condition)."""
    from portal.kb.models import Audience

    if not _active(user):
        return NOTHING
    if user.is_staff:
        return ~NOTHING
    return Q(audience=Audience.EVERYONE) | (Q(audience=Audience.WORKERS) & _works_tickets_q(user))


class ArticleQuerySet(models.QuerySet):
    def published(self):
        from portal.kb.models import ArticleStatus

        return self.filter(status=ArticleStatus.PUBLISHED)

    def suggestible_to(self, user):
        """Published articles `user` may read: search, browsing and suggestions."""
        return self.published().filter(audience_q(user))

    def visible_to(self, user):
        """Everything `user` may open: published articles of their audience, and the
        drafts of their teams (all drafts for admins)."""
        from portal.kb.models import ArticleStatus

        if not _active(user):
            return self.none()
        if user.is_staff:
            return self.all()
        published = Q(status=ArticleStatus.PUBLISHED) & audience_q(user)
        own_team = Exists(_memberships(user).filter(team_id=OuterRef("owner_team_id")))
        return self.filter(published | Q(own_team))

    def owned_by(self, user):
        """Articles of the teams `user` is an active member of (all for admins)."""
        if not _active(user):
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(owner_team_id__in=user_roles(user).agent_team_ids)


class ArticleManager(models.Manager):
    def get_queryset(self):
        # The stored search vector is for the database's ranking, never for Python.
        return super().get_queryset().defer("search_document")


def get_article_for_user(user, slug: str):
    """The article, or 404 for anyone who may not see it (as for one that does not exist)."""
    from portal.kb.models import Article

    return get_object_or_404(Article.objects.visible_to(user).select_related(
        "group", "category", "owner_team"
    ), slug=slug)  # fmt: skip


def can_create(user) -> bool:
    """Admins, and members of a team (who file articles under one of their teams)."""
    if not _active(user):
        return False
    roles = user_roles(user)
    return roles.is_admin or roles.is_agent


def can_own(user, team_id: int | None) -> bool:
    """May `user` file an article under this owner team?"""
    if not _active(user) or team_id is None:
        return False
    roles = user_roles(user)
    return roles.is_admin or team_id in roles.agent_team_ids


def can_edit(user, article) -> bool:
    """The owner team's members and admins edit, publish and unpublish."""
    return can_own(user, article.owner_team_id)


def owner_teams(user):
    """The teams `user` may name as an article's owner."""
    from portal.catalog.models import Team

    if not _active(user):
        return Team.objects.none()
    if user_roles(user).is_admin:
        return Team.objects.active()
    return Team.objects.active().filter(pk__in=user_roles(user).agent_team_ids)
