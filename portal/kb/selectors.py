"""Shared reads of the knowledge base (every one starts from the access layer's querysets)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from portal.kb.models import Article, Deflection


@dataclass(frozen=True)
class Shelf:
    """One category (or a group's uncategorised articles) and how many articles it holds."""

    group_id: int
    group_name: str
    category_id: int | None
    category_name: str
    count: int


def shelves(user) -> list[Shelf]:
    """The browse tree: the group/category pairs holding articles `user` may read (1 query)."""
    rows = (
        Article.objects.suggestible_to(user)
        .values("group_id", "group__name", "category_id", "category__name")
        .annotate(n=Count("id"))
        .order_by("group__name", "category__name")
    )
    return [
        Shelf(r["group_id"], r["group__name"], r["category_id"], r["category__name"] or "General",
              r["n"])
        for r in rows
    ]  # fmt: skip


def due_for_review(user, *, today: dt.date, limit: int = 50):
    """Articles of `user`'s teams whose review date has come (oldest first)."""
    return (
        Article.objects.owned_by(user)
        .filter(review_by__lte=today)
        .select_related("owner_team")
        .order_by("review_by", "id")[:limit]
    )


def drafts_of(user, *, limit: int = 50):
    """Drafts of `user`'s teams (all drafts for admins), newest first."""
    return (
        Article.objects.owned_by(user)
        .filter(status="draft")
        .select_related("owner_team")
        .order_by("-updated_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class DeflectionReport:
    total: int
    by_category: list[tuple[str, str, int]]  # (group name, category name, deflections)
    top_articles: list[tuple[Article, int]]


def deflection_report(
    *, since: dt.datetime, until: dt.datetime, group_id: int | None = None, top: int = 10
) -> DeflectionReport:
    """Deflections opened in [since, until): per category and the articles that resolved
    most (3 queries: per category, the top article ids, their rows). Articles of every
    audience are named: the page is for people who work tickets."""
    counted = Deflection.objects.filter(
        opened_at__gte=since, opened_at__lt=until, raised_ticket=False
    )
    if group_id:
        counted = counted.filter(Q(category__group_id=group_id) | Q(article__group_id=group_id))
    by_category = [
        (r["category__group__name"] or "–", r["category__name"] or "No category", r["n"])
        for r in counted.values("category__group__name", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__group__name", "category__name")
    ]
    top_rows = list(
        counted.values("article_id").annotate(n=Count("id")).order_by("-n", "article_id")[:top]
    )
    by_id = Article.objects.in_bulk([r["article_id"] for r in top_rows]) if top_rows else {}
    return DeflectionReport(
        total=sum(n for _, _, n in by_category),
        by_category=by_category,
        top_articles=[
            (by_id[r["article_id"]], r["n"]) for r in top_rows if r["article_id"] in by_id
        ],  # noqa: E501
    )


@dataclass(frozen=True)
class ImageUses:
    """The articles whose body still names an image: those `user` may open, and how many
    others (another team's drafts, say) do, without naming them."""

    visible: list[Article]
    others: int


def image_uses(user, image_id: int) -> ImageUses:
    """Where `/help/images/<image_id>` is written in a body (2 queries: the articles the
    person may open, then the count of all). A scan of the bodies: asked only on the
    confirmation page before an image is removed."""
    pattern = rf"/help/images/{int(image_id)}([^0-9]|$)"
    naming = Article.objects.filter(body__regex=pattern)
    visible = list(naming.visible_to(user).only("slug", "title").order_by("title", "id"))
    return ImageUses(visible=visible, others=naming.count() - len(visible))
