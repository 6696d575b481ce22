"""`/help/export.csv`: the articles a person may open, as CSV, for owner teams and admins.

Rows come from `Article.objects.visible_to(user)` (the audience rule of every other route:
published articles of the person's audience and their own teams' drafts; all for admins),
optionally one group or category (`?group=`, `?category=`, ids only). Streamed from one
query (group, category and owner team joined); every cell goes through
`spreadsheet_cells.neutralise` so a title like `=HYPERLINK(…)` stays text.
"""

import csv

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.kb import access
from portal.kb.forms import HelpFilterForm
from portal.kb.models import Article
from portal.lib.spreadsheet_cells import neutralise

HEADER = [
    "Title", "Address", "Status", "Audience", "Group", "Category", "Owner team", "Review by",
    "Published", "Updated", "Helpful yes", "Helpful no", "Body (Markdown)",
]  # fmt: skip


class _Echo:
    def write(self, value):
        return value


def _cells(article: Article) -> list[str]:
    return [
        neutralise(value)
        for value in (
            article.title,
            settings.APP_URL + article.get_absolute_url(),
            article.get_status_display(),
            article.get_audience_display(),
            article.group.name,
            article.category.name if article.category else "",
            article.owner_team.name,
            article.review_by.isoformat() if article.review_by else "",
            article.published_at.isoformat() if article.published_at else "",
            article.updated_at.isoformat(),
            article.helpful_yes,
            article.helpful_no,
            article.body,
        )
    ]


@never_cache
@require_GET
def article_export(request: HttpRequest) -> HttpResponse:
    """CSV of the articles the person may open; 403 for people who write no articles."""
    if not access.can_create(request.user):
        raise PermissionDenied("The article export is for owner teams and admins.")
    form = HelpFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: group and category are ids.", status=400,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    rows = Article.objects.visible_to(request.user).select_related(
        "group", "category", "owner_team"
    )
    if form.cleaned_data["category"]:
        rows = rows.filter(category_id=form.cleaned_data["category"])
    elif form.cleaned_data["group"]:
        rows = rows.filter(group_id=form.cleaned_data["group"])
    rows = rows.order_by("group__name", "title", "id")
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(HEADER)
        for article in rows.iterator(chunk_size=500):
            yield writer.writerow(_cells(article))

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="help-articles-{stamp}.csv"'
    return response
