"""/kb/articles: the knowledge base. Everyone signed in reads the articles the web pages
show them (`portal/kb/access.py`: internal how-tos only for people who work tickets,
drafts only for the owner team and admins; anything else is a 404). The owner team's
members and admins write, through `portal/kb/services.py`."""

import datetime as dt
from collections.abc import Collection
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.api.problems import Problem
from portal.api.schemas import BIGINT, CursorQuery, Input, Page, reject_unknown_query
from portal.catalog.models import BusinessUnitGroup, Category, Team
from portal.kb import access, rendering, search, services
from portal.kb.models import Article
from portal.lib import keyset

router = Router(tags=["knowledge base"])

NEWEST = keyset.Sort("Newest first", (("updated_at", True), ("id", True)))
AudienceCode = Literal["everyone", "workers"]
StatusCode = Literal["draft", "published"]
WRITE = {403: Problem, 404: Problem, 422: Problem}


class ArticleOut(Schema):
    slug: str
    title: str
    body: str = Field(description="Markdown.")
    body_html: str = Field(description="The body as the web page shows it (sanitised HTML).")
    group: int
    category: int | None
    owner_team: int
    status: StatusCode
    audience: AudienceCode
    review_by: dt.date | None
    helpful_yes: int
    helpful_no: int
    updated_at: dt.datetime
    published_at: dt.datetime | None
    url: str


class ArticlePage(Page):
    items: list[ArticleOut]


class ArticleQuery(CursorQuery):
    q: str | None = Field(None, max_length=200, description="Search (best matches first).")
    group: int | None = Field(None, ge=1, le=BIGINT)
    category: int | None = Field(None, ge=1, le=BIGINT)
    status: StatusCode | None = None


class ArticleIn(Input):
    title: str = Field(min_length=1, max_length=services.TITLE_MAX)
    body: str = Field(min_length=1, max_length=services.BODY_MAX, description="Markdown.")
    group: int = Field(ge=1, le=BIGINT)
    category: int | None = Field(None, ge=1, le=BIGINT)
    owner_team: int = Field(ge=1, le=BIGINT, description="One of your teams (any for admins).")
    audience: AudienceCode = "everyone"
    review_by: dt.date | None = None


class ArticleUpdate(Input):
    """Only the fields sent change."""

    title: str | None = Field(None, min_length=1, max_length=services.TITLE_MAX)
    body: str | None = Field(None, min_length=1, max_length=services.BODY_MAX)
    group: int | None = Field(None, ge=1, le=BIGINT)
    category: int | None = Field(None, ge=1, le=BIGINT)
    owner_team: int | None = Field(None, ge=1, le=BIGINT)
    audience: AudienceCode | None = None
    review_by: dt.date | None = None


def _out(article: Article, available_images: Collection[int]) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "body": article.body,
        "body_html": rendering.article_html(article.body, available=available_images),
        "group": article.group_id,
        "category": article.category_id,
        "owner_team": article.owner_team_id,
        "status": article.status,
        "audience": article.audience,
        "review_by": article.review_by,
        "helpful_yes": article.helpful_yes,
        "helpful_no": article.helpful_no,
        "updated_at": article.updated_at,
        "published_at": article.published_at,
        "url": article.get_absolute_url(),
    }


def _row(model, pk: int | None, field: str):
    if pk is None:
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return row


def _lookups(data: dict) -> dict:
    """Ids in the body → rows (a missing one is a 422 naming the field)."""
    for field, model in (("group", BusinessUnitGroup), ("category", Category),
                         ("owner_team", Team)):  # fmt: skip
        if field in data:
            data[field] = _row(model, data[field], field)
    return data


@router.get("/articles", response={200: ArticlePage, 400: Problem}, summary="List articles")
def article_list(request: HttpRequest, query: Query[ArticleQuery]):
    """The articles you may read, newest first; with `q`, the best matches (at most
    `per_page`, no further pages)."""
    reject_unknown_query(request, ArticleQuery)
    rows = Article.objects.visible_to(request.auth)
    if query.group:
        rows = rows.filter(group_id=query.group)
    if query.category:
        rows = rows.filter(category_id=query.category)
    if query.status:
        rows = rows.filter(status=query.status)
    if query.q and query.q.strip():
        found = [hit.article for hit in search.search(rows, query.q, limit=query.per_page)]
        return {"items": _items(request, found), "next_cursor": None}
    items, next_cursor = keyset.page(rows, NEWEST, query.after, query.per_page)
    return {"items": _items(request, items), "next_cursor": next_cursor}


def _items(request: HttpRequest, articles: list[Article]) -> list[dict]:
    """The articles as `ArticleOut`, with one query for the images their bodies show."""
    available = rendering.available_images(request.auth, [a.body for a in articles])
    return [_out(article, available) for article in articles]


def _one(request: HttpRequest, article: Article) -> dict:
    return _items(request, [article])[0]


@router.get("/articles/{slug}", response={200: ArticleOut, 404: Problem}, summary="Read an article")
def article_read(request: HttpRequest, slug: str):
    return _one(request, access.get_article_for_user(request.auth, slug))


@router.post("/articles", response={201: ArticleOut, **WRITE}, summary="Write a draft")
def article_create(request: HttpRequest, payload: ArticleIn):
    """A new draft, owned by one of your teams; publish it with `…/publish`."""
    data = _lookups(payload.model_dump())
    article = services.article_create(actor=request.auth, **data)
    return Status(201, _one(request, article))


@router.patch("/articles/{slug}", response={200: ArticleOut, **WRITE}, summary="Change an article")
def article_update(request: HttpRequest, slug: str, payload: ArticleUpdate):
    article = access.get_article_for_user(request.auth, slug)
    changes = _lookups(payload.model_dump(exclude_unset=True))
    for required in ("title", "body", "group", "owner_team", "audience"):
        if required in changes and changes[required] is None:
            raise ValidationError({required: "This field cannot be empty."})
    services.article_update(actor=request.auth, article=article, **changes)
    article.refresh_from_db()
    return _one(request, article)


@router.post(
    "/articles/{slug}/publish", response={200: ArticleOut, **WRITE}, summary="Publish an article"
)
def article_publish(request: HttpRequest, slug: str):
    """Idempotent: publishing a published article changes nothing."""
    article = access.get_article_for_user(request.auth, slug)
    services.article_publish(actor=request.auth, article=article)
    article.refresh_from_db()
    return _one(request, article)


@router.post(
    "/articles/{slug}/unpublish",
    response={200: ArticleOut, **WRITE},
    summary="Take an article back to draft",
)
def article_unpublish(request: HttpRequest, slug: str):
    article = access.get_article_for_user(request.auth, slug)
    services.article_unpublish(actor=request.auth, article=article)
    article.refresh_from_db()
    return _one(request, article)
