"""Removing an image from an article: owner team and admins, after a confirmation page.

The row goes at once; the file leaves storage after the commit (the pending ledger and the
kb image sweep, enqueued on commit: no storage call inside the transaction). A body that
still names the image shows "Image not available" instead of a broken picture, and the
confirmation page says beforehand which articles that will be.
"""

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from portal.attachments.models import PendingObject
from portal.attachments.tests.files import png
from portal.kb import image_services, services
from portal.kb.models import ArticleEvent, ArticleImage
from portal.kb.tasks import cleanup_pending_images
from portal.tickets.tests.attachment_fixtures import stored_keys, upload

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(anonymous, requester, agent, lead, spoc, admin, outsider):
    values = [anonymous, requester, agent, lead, spoc, admin, outsider]
    return dict(zip(PERSONAS, values, strict=True))


def _client(personas, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(getattr(personas, persona))
    return client


def _add(article, actor, name="screen.png") -> ArticleImage:
    return image_services.article_image_add(
        actor=actor, article=article, upload=upload(name, png())
    )


def _show(article, actor, image, text="Step 1") -> None:
    body = f"{text}\n\n![The settings screen](/help/images/{image.pk})"
    services.article_update(actor=actor, article=article, body=body)


def _body_html(client, article) -> str:
    page = client.get(article.get_absolute_url()).content.decode()
    return page.split('<div class="markdown" hx-disable>', 1)[1].split("</div>", 1)[0]


def test_owner_removes_an_image_and_its_file_leaves_storage_after_the_commit(
    articles, personas, files_storage, django_capture_on_commit_callbacks
):
    image = _add(articles.public, personas.agent)
    client = _client(personas, "agent")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/help/images/{image.pk}/remove")
    assert response.status_code == 302
    assert response["Location"] == f"/help/articles/{articles.public.slug}/edit"
    assert not ArticleImage.objects.filter(pk=image.pk).exists()
    assert ArticleEvent.objects.filter(article=articles.public, fields="images").count() == 2
    # Inside the transaction only the ledger was written; the sweep was enqueued once the
    # removal committed, and the worker running it deletes the file.
    assert len(callbacks) == 1
    assert stored_keys(files_storage, "kb") == [image.storage_key]
    assert PendingObject.objects.filter(key=image.storage_key).exists()
    task = DBTaskResult.objects.get()
    assert task.task_path == "portal.kb.tasks.cleanup_pending_images"
    assert cleanup_pending_images.call()["deleted"] == 1
    assert stored_keys(files_storage, "kb") == []
    assert not PendingObject.objects.exists()
    assert "Image “screen.png” removed." in client.get(response["Location"]).content.decode()


def test_a_removal_that_rolls_back_keeps_the_image_and_enqueues_nothing(
    articles, personas, files_storage, django_capture_on_commit_callbacks
):
    from django.db import transaction

    image = _add(articles.public, personas.agent)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        image_services.article_image_remove(actor=personas.agent, image=image)
        raise RuntimeError("the rest of the request failed")
    assert callbacks == []
    assert ArticleImage.objects.filter(pk=image.pk).exists()
    assert not PendingObject.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert cleanup_pending_images.call()["deleted"] == 0
    assert stored_keys(files_storage, "kb") == [image.storage_key]


def test_removed_image_file_leaves_the_s3_bucket(
    articles, personas, s3_server, s3_storage, django_capture_on_commit_callbacks
):
    image = _add(articles.public, personas.agent)
    bucket = s3_server.client()

    def keys():
        listing = bucket.list_objects_v2(Bucket=s3_server.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    assert keys() == [image.storage_key]
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(personas, "admin").post(f"/help/images/{image.pk}/remove")
    assert response.status_code == 302
    assert keys() == [image.storage_key]  # nothing was deleted inside the request's work
    cleanup_pending_images.call()
    assert keys() == []


# Each article's image: who may ask to remove it (GET, the confirmation) and remove it
# (POST). 404 where the article is not visible (as for an image that does not exist), 403
# for people who see it but do not own it; the owner team (agent, lead) and admins remove.
ARTICLES = {
    "public": (_row(302, 403, 200, 200, 403, 200, 403), _row(302, 403, 302, 302, 403, 302, 403)),
    "internal": (
        _row(302, 404, 200, 200, 403, 200, 404), _row(302, 404, 302, 302, 403, 302, 404)
    ),
    "draft": (_row(302, 404, 200, 200, 404, 200, 404), _row(302, 404, 302, 302, 404, 302, 404)),
    # Team B's article: the agent and lead of team A are agents of another team.
    "other_team": (
        _row(302, 403, 403, 403, 403, 200, 403), _row(302, 403, 403, 403, 403, 302, 403)
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(ARTICLES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_remove_permission_matrix(kind, persona, articles, personas, files_storage):
    article = getattr(articles, kind)
    image = _add(article, personas.admin)
    confirm, remove = ARTICLES[kind]
    client = _client(personas, persona)
    path = f"/help/images/{image.pk}/remove"
    response = client.get(path)
    assert response.status_code == confirm[persona]
    if persona == "anonymous":
        assert response["Location"].startswith("/login")
    events = ArticleEvent.objects.count()
    response = client.post(path)
    assert response.status_code == remove[persona]
    removed = not ArticleImage.objects.filter(pk=image.pk).exists()
    assert removed == (remove[persona] == 302 and persona != "anonymous")
    assert ArticleEvent.objects.count() == events + removed
    assert PendingObject.objects.filter(key=image.storage_key).exists() == removed
    assert stored_keys(files_storage, "kb") == [image.storage_key]  # the sweep deletes it


def test_removing_twice_is_a_404_and_changes_nothing_more(articles, personas, files_storage):
    image = _add(articles.public, personas.agent)
    client = _client(personas, "agent")
    assert client.post(f"/help/images/{image.pk}/remove").status_code == 302
    events = ArticleEvent.objects.count()
    assert client.post(f"/help/images/{image.pk}/remove").status_code == 404
    assert ArticleEvent.objects.count() == events


def test_confirmation_lists_the_articles_that_still_show_the_image(
    articles, personas, files_storage
):
    image = _add(articles.public, personas.admin)
    _show(articles.public, personas.admin, image)
    _show(articles.internal, personas.admin, image, text="Also here")
    # Team B's draft names it too: the agent is told it exists, not what it is.
    services.article_unpublish(actor=personas.admin, article=articles.other_team)
    _show(articles.other_team, personas.admin, image)
    # An image with a longer id starting with the same digits is not this one.
    services.article_update(
        actor=personas.admin, article=articles.draft, body=f"![x](/help/images/{image.pk}0)"
    )
    page = _client(personas, "agent").get(f"/help/images/{image.pk}/remove").content.decode()
    assert f"![screen](/help/images/{image.pk})" in page
    assert f'href="{articles.public.get_absolute_url()}"' in page
    assert "Connect to the office printer</a> (this article)" in page
    assert f'href="{articles.internal.get_absolute_url()}"' in page
    assert "Payslip questions" not in page
    assert "1 article you cannot open" in page
    assert articles.draft.title not in page
    admin_page = _client(personas, "admin").get(f"/help/images/{image.pk}/remove")
    assert "Payslip questions" in admin_page.content.decode()
    assert "cannot open" not in admin_page.content.decode()


def test_a_body_naming_a_removed_image_shows_a_note_instead_of_a_broken_picture(
    articles, personas, files_storage
):
    kept = _add(articles.public, personas.agent, name="kept.png")
    gone = _add(articles.public, personas.agent, name="gone.png")
    body = (
        f"![Kept](/help/images/{kept.pk})\n\n"
        f'![The <b>"old"</b> screen](/help/images/{gone.pk})\n\n'
        f"![](/help/images/{gone.pk})\n\n"
        "![never uploaded](/help/images/999999)"
    )
    services.article_update(actor=personas.agent, article=articles.public, body=body)
    image_services.article_image_remove(actor=personas.agent, image=gone)
    html = _body_html(_client(personas, "requester"), articles.public)
    assert f'<img alt="Kept" src="/help/images/{kept.pk}">' in html
    assert f"/help/images/{gone.pk}" not in html and "/help/images/999999" not in html
    assert html.count("<img") == 1
    assert (
        '<span class="kb-image-missing">Image not available: '
        "The &lt;b&gt;&quot;old&quot;&lt;/b&gt; screen</span>"
    ) in html
    assert '<span class="kb-image-missing">Image not available</span>' in html
    assert '<span class="kb-image-missing">Image not available: never uploaded</span>' in html


def test_an_image_the_reader_may_not_see_is_not_a_broken_picture_either(
    articles, personas, files_storage
):
    # An internal how-to's picture written into a public article: a requester gets the
    # note (the image itself is a 404 for them), people who work tickets get the picture.
    image = _add(articles.internal, personas.agent)
    _show(articles.public, personas.agent, image)
    for_requester = _body_html(_client(personas, "requester"), articles.public)
    assert "<img" not in for_requester and "Image not available" in for_requester
    for_spoc = _body_html(_client(personas, "spoc"), articles.public)
    assert f'src="/help/images/{image.pk}"' in for_spoc


def test_api_body_html_shows_the_note_for_a_removed_image(articles, personas, files_storage):
    from portal.api import tokens

    image = _add(articles.public, personas.agent)
    _show(articles.public, personas.agent, image)
    image_services.article_image_remove(actor=personas.agent, image=image)
    secret = tokens.token_create(user=personas.requester, name="t").secret
    item = (
        Client()
        .get(f"/api/v1/kb/articles/{articles.public.slug}", HTTP_AUTHORIZATION=f"Bearer {secret}")
        .json()
    )
    assert "<img" not in item["body_html"]
    assert "Image not available: The settings screen" in item["body_html"]


def test_edit_page_offers_removal_of_each_image_at_a_constant_query_count(
    articles, personas, files_storage, django_assert_num_queries
):
    client = _client(personas, "agent")
    path = f"/help/articles/{articles.public.slug}/edit"
    _add(articles.public, personas.agent)
    client.get(path)
    # 1 the session with its user, 2 the article (group, category, owner team joined), 3
    # the images, 4 the groups, 5 the group's categories, 6 and 7 the owner-team choices
    # (the select reads its queryset twice); roles and the bell come from the cache.
    with django_assert_num_queries(7):
        one = client.get(path).content.decode()
    more = [_add(articles.public, personas.agent, name=f"step{n}.png") for n in range(3)]
    with django_assert_num_queries(7):
        four = client.get(path).content.decode()
    assert one.count("/remove") == 1 and four.count("/remove") == 4
    assert f'href="/help/images/{more[-1].pk}/remove"' in four


def test_confirmation_and_article_pages_pin_their_queries(
    articles, personas, files_storage, django_assert_num_queries
):
    image = _add(articles.public, personas.agent)
    _show(articles.public, personas.agent, image)
    agent = _client(personas, "agent")
    agent.get(f"/help/images/{image.pk}/remove")
    # 1 the session with its user, 2 the image with its article (audience condition), 3
    # the articles the agent may open naming it, 4 the count of all naming it.
    with django_assert_num_queries(4):
        agent.get(f"/help/images/{image.pk}/remove")
    requester = _client(personas, "requester")
    requester.get(articles.public.get_absolute_url())
    # The article page (2 queries) plus 1: which of the images its body names may be shown.
    with django_assert_num_queries(3):
        requester.get(articles.public.get_absolute_url())


def test_the_api_list_asks_once_which_images_may_be_shown(
    articles, personas, files_storage, django_assert_num_queries
):
    from portal.api import tokens

    secret = tokens.token_create(user=personas.requester, name="t").secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = "/api/v1/kb/articles?per_page=100"
    image = _add(articles.public, personas.agent)
    _show(articles.public, personas.agent, image)
    client.get(url)
    with django_assert_num_queries(API_LIST_QUERIES) as one:
        client.get(url)
    more = _add(articles.other_team, personas.admin)
    _show(articles.other_team, personas.admin, more)
    image_services.article_image_remove(actor=personas.agent, image=image)
    with django_assert_num_queries(API_LIST_QUERIES):
        items = client.get(url).json()["items"]
    bodies = {item["slug"]: item["body_html"] for item in items}
    assert f'src="/help/images/{more.pk}"' in bodies[articles.other_team.slug]
    assert "Image not available" in bodies[articles.public.slug]
    assert any("kb_articleimage" in query["sql"] for query in one.captured_queries)


# 1 the token with its user, 2 the rate window, 3 the page of articles, and 4 the images
# their bodies name, whatever their number.
API_LIST_QUERIES = 4
