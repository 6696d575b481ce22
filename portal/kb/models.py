"""Knowledge-base articles, what happens to them, and how often they answer a request.

An article is filed under a business unit group (and, usually, one of its categories), is
owned by a team (whose members edit it and review it by `review_by`), and is read by
everyone or by people who work tickets only (`Audience`). Who sees which article is
decided in one place, `portal/kb/access.py`.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.catalog.models import BusinessUnitGroup, Category, Team
from portal.kb.access import ArticleManager, ArticleQuerySet
from portal.kb.fields import StoredSearchVector


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    WORKERS = "workers", "People who work tickets only"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    slug = models.SlugField(max_length=140, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    group = models.ForeignKey(BusinessUnitGroup, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    review_by = models.DateField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Counted without identity: "was this helpful?" keeps only the totals.
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # PostgreSQL: the weighted text vector of title and body (search.article_vector()),
    # stored so ranking reads it instead of re-parsing every matching body; written by the
    # services, GIN-indexed (migration 0003). Unused (NULL) on SQLite.
    search_document = StoredSearchVector(null=True, editable=False)

    objects = ArticleManager.from_queryset(ArticleQuerySet)()

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["status", "category"], name="kb_article_status_category"),
            models.Index(fields=["owner_team", "review_by"], name="kb_article_team_review"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb-article", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def is_internal(self) -> bool:
        return self.audience == Audience.WORKERS


class ArticleEvent(models.Model):
    """The article's history: who created, changed, published or unpublished it, when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Changed"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Back to draft"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    fields = models.CharField(max_length=200, blank=True)  # codes of the changed fields
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.article_id}"


class Deflection(models.Model):
    """One new-ticket form whose person opened a suggested article.

    Keyed by the form's random visit id (no user is stored), so reopening articles or
    reloading counts once. It stops counting as a deflection when the same form raises a
    ticket after all (`raised_ticket`).
    """

    visit = models.UUIDField(unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    # What the person had picked on the form (else the article's own category).
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    raised_ticket = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="kb_deflection_opened")]

    def __str__(self) -> str:
        return f"Deflection by article {self.article_id}"


class ArticleImage(models.Model):
    """A picture shown in an article: an upload whose content was checked to be a PNG,
    JPEG, GIF or WebP image (portal/attachments), stored privately under `kb/<article>/`
    and served only to people who may open the article (`kb.views.article_image`)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    storage_key = models.CharField(max_length=400, unique=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("kb-image", args=[self.pk])
