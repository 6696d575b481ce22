"""Every write to the knowledge base: articles, their history, feedback and deflections.

Services take keyword-only arguments, check permission themselves (`portal/kb/access.py`),
validate, and write the article and its history event in one transaction. A refusal is a
`PermissionDenied` (403) or a `ValidationError` naming the field (form error or 422), and
leaves nothing written.
"""

import datetime as dt
import re
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from portal.catalog.models import BusinessUnitGroup, Category, Team
from portal.kb import access
from portal.kb.models import Article, ArticleEvent, ArticleStatus, Audience, Deflection
from portal.kb.search import article_vector

TITLE_MAX = 200
BODY_MAX = 40_000
# Control characters have no place in an article, and ts_headline's highlight markers
# (see selectors.HIGHLIGHT_START) are control characters: keeping them out of bodies
# means a marker in a snippet was always put there by the database.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EDITABLE = ("title", "body", "group", "category", "owner_team", "audience", "review_by")


def _clean(*, title: str, body: str, group, category, owner_team, audience: str, review_by) -> dict:
    errors = {}
    title = " ".join(_CONTROL.sub("", title or "").split())
    body = _CONTROL.sub("", body or "").strip()
    if not title:
        errors["title"] = "Give the article a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters."
    if not body:
        errors["body"] = "Write the article."
    elif len(body) > BODY_MAX:
        errors["body"] = f"At most {BODY_MAX:,} characters."
    if not isinstance(group, BusinessUnitGroup):
        errors["group"] = "Choose a business unit group."
    if category is not None and (not isinstance(category, Category) or (
        isinstance(group, BusinessUnitGroup) and category.group_id != group.pk
    )):  # fmt: skip
        errors["category"] = "Choose a category of the article's group."
    if not isinstance(owner_team, Team) or not owner_team.is_active:
        errors["owner_team"] = "Choose an active owner team."
    if audience not in Audience.values:
        errors["audience"] = "Choose who may read the article."
    if review_by is not None and not isinstance(review_by, dt.date):
        errors["review_by"] = "Give a date."
    if errors:
        raise ValidationError(errors)
    return {
        "title": title, "body": body, "group": group, "category": category,
        "owner_team": owner_team, "audience": audience, "review_by": review_by,
    }  # fmt: skip


def _unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:120].strip("-") or "article"
    taken = set(
        Article.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _index(article: Article) -> None:
    """PostgreSQL: store the article's text vector (search.article_vector) for ranking."""
    if connection.vendor == "postgresql":
        Article.objects.filter(pk=article.pk).update(search_document=article_vector())


def _event(article: Article, actor, kind: str, fields: list[str] | tuple = ()) -> None:
    ArticleEvent.objects.create(article=article, actor=actor, kind=kind, fields=",".join(fields))


def article_create(
    *,
    actor,
    title: str,
    body: str,
    group,
    owner_team,
    category=None,
    audience: str = Audience.EVERYONE,
    review_by: dt.date | None = None,
) -> Article:
    """A new draft, owned by one of the actor's teams (any team for admins)."""
    if not access.can_create(actor):
        raise PermissionDenied("Only team members and admins write articles.")
    data = _clean(
        title=title, body=body, group=group, category=category, owner_team=owner_team,
        audience=audience, review_by=review_by,
    )  # fmt: skip
    if not access.can_own(actor, owner_team.pk):
        raise ValidationError({"owner_team": "Choose one of your own teams."})
    for attempt in range(3):  # two people creating "VPN" at once: the loser takes "vpn-2"
        try:
            with transaction.atomic():
                article = Article.objects.create(
                    slug=_unique_slug(data["title"]), author=actor, **data
                )
                _index(article)
                _event(article, actor, ArticleEvent.Kind.CREATED)
                return article
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def article_update(*, actor, article: Article, **changes) -> list[str]:
    """Change any of `EDITABLE`; returns the names of the fields that changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if not access.can_edit(actor, article):
            raise PermissionDenied("Only the owner team and admins edit this article.")
        current = {name: getattr(article, name) for name in EDITABLE}
        data = _clean(**{**current, **changes})
        if data["owner_team"].pk != article.owner_team_id and not access.can_own(
            actor, data["owner_team"].pk
        ):
            raise ValidationError({"owner_team": "Choose one of your own teams."})
        changed = [name for name in EDITABLE if data[name] != current[name]]
        if not changed:
            return []
        for name in changed:
            setattr(article, name, data[name])
        article.save(update_fields=[*changed, "updated_at"])
        if {"title", "body"} & set(changed):
            _index(article)
        _event(article, actor, ArticleEvent.Kind.UPDATED, changed)
    return changed


def _set_status(*, actor, article: Article, status: str, kind: str) -> bool:
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if not access.can_edit(actor, article):
            raise PermissionDenied("Only the owner team and admins publish this article.")
        if article.status == status:
            return False
        article.status = status
        fields = ["status", "updated_at"]
        if status == ArticleStatus.PUBLISHED and article.published_at is None:
            article.published_at = timezone.now()
            fields.append("published_at")
        article.save(update_fields=fields)
        _event(article, actor, kind)
    return True


def article_publish(*, actor, article: Article) -> bool:
    """Draft → published (idempotent: False when it already was)."""
    return _set_status(
        actor=actor, article=article, status=ArticleStatus.PUBLISHED,
        kind=ArticleEvent.Kind.PUBLISHED,
    )  # fmt: skip


def article_unpublish(*, actor, article: Article) -> bool:
    """Published → draft: nobody but the owners sees it until it is published again."""
    return _set_status(
        actor=actor, article=article, status=ArticleStatus.DRAFT,
        kind=ArticleEvent.Kind.UNPUBLISHED,
    )  # fmt: skip


def article_record_feedback(*, article: Article, helpful: bool) -> None:
    """One "was this helpful?" answer: only the total grows, nobody's name is kept.
    A single UPDATE … SET n = n + 1, so simultaneous answers all count."""
    field = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})


def deflection_record(
    *, visit: uuid.UUID, article: Article, category_id: int | None, now: dt.datetime
) -> bool:
    """A suggested article was opened from the new-ticket form `visit`. Counted once per
    form, whichever and however often its articles are opened (True when this was the
    first); no user is stored. The form raising a ticket later undoes it
    (`deflection_undo`)."""
    with transaction.atomic():
        _, created = Deflection.objects.get_or_create(
            visit=visit,
            defaults={
                "article": article,
                "category_id": category_id or article.category_id,
                "opened_at": now,
            },
        )
    return created


def deflection_undo(*, visit: uuid.UUID) -> int:
    """The form `visit` raised a ticket after all: its opened article did not deflect it."""
    return Deflection.objects.filter(visit=visit, raised_ticket=False).update(raised_ticket=True)
