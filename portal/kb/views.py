"""/help: browse, search, read, rate and edit articles; the new-ticket suggestion box.

Every article is read through `portal/kb/access.py` (`visible_to`, `suggestible_to`,
`get_article_for_user`: 404 for anyone who may not see it) and changed through a service.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.attachments.downloads import download_response
from portal.attachments.storage import StorageUnavailable, get_storage
from portal.kb import (
    access,
    deflection,
    image_services,
    rendering,
    search,
    selectors,
    services,
)
from portal.kb.forms import ArticleForm, HelpFilterForm, ImageForm, suggestion_params
from portal.kb.models import Article, ArticleImage
from portal.lib import keyset
from portal.lib.forms import add_service_errors
from portal.lib.http import posted_data

PER_PAGE = 25
NEWEST = keyset.Sort("Newest first", (("updated_at", True), ("id", True)))
# "Was this helpful?" answers remembered per browser session (not stored with the count):
# enough that a double click or a reload does not count twice.
VOTED_KEY, VOTED_MAX = "kb_voted", 200


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    """Browse by group and category, or search; owners also see drafts and reviews due."""
    user = request.user
    form = HelpFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "kb/home.html", {"form": form, "shelves": []}, status=400)
    data = form.cleaned_data
    articles = Article.objects.suggestible_to(user)
    if data["category"]:
        articles = articles.filter(category_id=data["category"])
    elif data["group"]:
        articles = articles.filter(group_id=data["group"])
    context = {"form": form, "query": data["q"], "shelves": selectors.shelves(user)}
    if data["q"]:
        context["hits"] = search.search(articles, data["q"])
        context["search_limit"] = search.SEARCH_LIMIT
    elif data["group"] or data["category"]:
        try:
            rows, next_cursor = keyset.page(
                articles.select_related("group", "category").defer("body"),
                NEWEST, data["after"] or None, PER_PAGE,
            )  # fmt: skip
        except keyset.BadCursor as error:
            return render(request, "kb/home.html", {**context, "error": str(error)}, status=400)
        context.update(shelf=rows, next_cursor=next_cursor)
    if access.can_create(user):
        today = timezone.localdate()
        context["may_write"] = True
        context["due"] = list(selectors.due_for_review(user, today=today))
        context["drafts"] = list(selectors.drafts_of(user))
    return render(request, "kb/home.html", context)


@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The article. `?from=` (a suggestion's signed token) counts a deflection once."""
    article = access.get_article_for_user(request.user, slug)
    token = request.GET.get("from")
    if token:
        deflection.opened(token, article)
    may_edit = access.can_edit(request.user, article)
    context = {
        "article": article,
        "available_images": rendering.available_images(request.user, [article.body]),
        "may_edit": may_edit,
        "voted": article.pk in request.session.get(VOTED_KEY, []),
        "events": list(article.events.select_related("actor")[:10]) if may_edit else [],
        "today": timezone.localdate(),
    }
    return render(request, "kb/article.html", context)


@require_POST
def article_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """Yes/no, counted without identity, once per article per browser session."""
    article = access.get_article_for_user(request.user, slug)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no") or not article.is_published:
        return HttpResponse("Answer yes or no.", status=400, content_type="text/plain")
    voted = list(request.session.get(VOTED_KEY, []))
    if article.pk not in voted:
        services.article_record_feedback(article=article, helpful=answer == "yes")
        request.session[VOTED_KEY] = [*voted, article.pk][-VOTED_MAX:]
    if request.headers.get("HX-Request") == "true":
        return render(request, "kb/_feedback.html", {"article": article, "voted": True})
    messages.success(request, "Thank you: your answer was counted.")
    return redirect(article)


def _form_page(request, form, *, article=None, status=200) -> HttpResponse:
    context = {"form": form, "article": article}
    if article is not None:
        context.update(_images_context(article))
    return render(request, "kb/edit.html", context, status=status)


def _images_context(article: Article, image_form: ImageForm | None = None) -> dict:
    images = list(article.images.all())
    return {
        "article": article,
        "image_form": image_form or ImageForm(),
        "images": [(image, image_services.image_markdown(image)) for image in images],
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def article_create(request: HttpRequest) -> HttpResponse:
    if not access.can_create(request.user):
        raise PermissionDenied("Only team members and admins write articles.")
    teams = access.owner_teams(request.user)
    form = ArticleForm(posted_data(request), teams=teams, initial={"audience": "everyone"})
    if request.method != "POST":
        return _form_page(request, form)
    if form.is_valid():
        try:
            article = services.article_create(actor=request.user, **form.service_args())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Draft saved. Publish it when it is ready.")
            return redirect(article)
    return _form_page(request, form, status=400)


def _editable(request: HttpRequest, slug: str) -> Article:
    article = access.get_article_for_user(request.user, slug)
    if not access.can_edit(request.user, article):
        raise PermissionDenied("Only the owner team and admins edit this article.")
    return article


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def article_edit(request: HttpRequest, slug: str) -> HttpResponse:
    article = _editable(request, slug)
    teams = access.owner_teams(request.user) | type(article.owner_team).objects.filter(
        pk=article.owner_team_id
    )
    initial = {
        "title": article.title, "body": article.body, "group": article.group_id,
        "category": article.category_id, "owner_team": article.owner_team_id,
        "audience": article.audience, "review_by": article.review_by,
    }  # fmt: skip
    form = ArticleForm(posted_data(request), teams=teams.distinct(), initial=initial)
    if request.method != "POST":
        return _form_page(request, form, article=article)
    if form.is_valid():
        try:
            changed = services.article_update(
                actor=request.user, article=article, **form.service_args()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            article.refresh_from_db(fields=["slug"])
            return redirect(article)
    return _form_page(request, form, article=article, status=400)


@require_POST
def article_publish(request: HttpRequest, slug: str) -> HttpResponse:
    article = _editable(request, slug)
    services.article_publish(actor=request.user, article=article)
    messages.success(request, "Published.")
    return redirect(article)


@require_POST
def article_unpublish(request: HttpRequest, slug: str) -> HttpResponse:
    article = _editable(request, slug)
    services.article_unpublish(actor=request.user, article=article)
    messages.success(request, "Back to draft: only your team sees it now.")
    return redirect(article)


@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """The new-ticket form's suggestion box (htmx, debounced by the form): one query."""
    params = suggestion_params(request.GET)
    visit = deflection.parse_visit(request.GET.get("kb_visit"))
    rows = search.suggest(Article.objects.suggestible_to(request.user), **params)
    items = [
        {
            "article": row,
            "token": deflection.link_token(visit, row.pk, params["category_id"]) if visit else "",
        }
        for row in rows
    ]
    return render(request, "kb/_suggestions.html", {"items": items})


@require_POST
def article_image_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a checked image to the article (owner team, admins). htmx gets the image list
    back and an `kb-image-added` event carrying the Markdown to insert at the cursor; a
    plain form post returns to the edit page."""
    article = _editable(request, slug)
    form = ImageForm(request.POST, request.FILES)
    htmx = request.headers.get("HX-Request") == "true"
    status = 200
    image = None
    if form.is_valid():
        try:
            image = image_services.article_image_add(
                actor=request.user, article=article, upload=form.cleaned_data["image"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
            status = 400
        except StorageUnavailable:
            form.add_error("image", "Images cannot be stored right now; try again later.")
            status = 503
    else:
        status = 400
    if not htmx:
        if image is None:
            messages.error(request, " ".join(form.errors.get("image", ["Image refused."])))
        else:
            messages.success(request, f"Image added: {image_services.image_markdown(image)}")
        return redirect("kb-article-edit", slug=article.slug)
    response = render(
        request,
        "kb/_images.html",
        _images_context(article, form if image is None else None),
        status=status,
    )
    if image is not None:
        markdown = image_services.image_markdown(image)
        response["HX-Trigger"] = json.dumps({"kb-image-added": {"markdown": markdown}})
    return response


@require_GET
def article_image(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The image, to people who may open its article (404 to anyone else, as for an image
    that does not exist): an internal article's image never reaches a requester."""
    image = get_object_or_404(
        ArticleImage.objects.filter(article__in=Article.objects.visible_to(request.user)), pk=pk
    )
    try:
        return download_response(
            get_storage(),
            image.storage_key,
            original_name=image.original_name,
            content_type=image.content_type,
            inline_ok=True,
        )
    except StorageUnavailable:
        return HttpResponse("The image cannot be fetched right now.", status=503,
                            content_type="text/plain")  # fmt: skip


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def article_image_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an image from its article (owner team, admins). GET asks for confirmation
    and says which articles still show it (they will read "Image not available" there);
    POST removes it and returns to the article's edit page."""
    visible = Article.objects.visible_to(request.user)
    image = get_object_or_404(
        ArticleImage.objects.filter(article__in=visible).select_related("article"), pk=pk
    )
    article = image.article
    if not access.can_edit(request.user, article):
        raise PermissionDenied("Only the owner team and admins remove images from this article.")
    if request.method == "POST":
        image_services.article_image_remove(actor=request.user, image=image)
        messages.success(request, f"Image “{image.original_name}” removed.")
        return redirect("kb-article-edit", slug=article.slug)
    context = {
        "image": image,
        "article": article,
        "markdown": image_services.image_markdown(image),
        "uses": selectors.image_uses(request.user, image.pk),
    }
    return render(request, "kb/image_remove.html", context)
