"""Images in articles: checked uploads, served only to people who may open the article.

An internal how-to's picture must never reach a requester (nor a draft's anyone outside
the owner team and admins), and an article body can show no image but the portal's own
article images: nothing from another server, no script through an image's attributes.
"""

import os
from html.parser import HTMLParser

import pytest
from django.test import Client

from portal.attachments.tests.files import pdf, png
from portal.kb import image_services
from portal.kb.image_keys import known_storage_keys
from portal.kb.models import Article, ArticleEvent, ArticleImage
from portal.tickets.tests.attachment_fixtures import upload

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _stored(storage) -> list[str]:
    root = storage.path("")
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


def _elements(html: str) -> list[tuple[str, dict]]:
    """Every element of `html` with its attributes, as a browser's parser reads them."""
    found: list[tuple[str, dict]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def _add(article, actor, name="screen.png", data=None):
    return image_services.article_image_add(
        actor=actor, article=article, upload=upload(name, data or png())
    )


def test_owner_uploads_an_image_and_gets_markdown_for_the_body(articles, personas, files_storage):
    response = _client(personas.agent).post(
        f"/help/articles/{articles.public.slug}/images",
        {"image": upload("Printer settings.png", png())},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    image = ArticleImage.objects.get(article=articles.public)
    markdown = f"![Printer settings](/help/images/{image.pk})"
    assert markdown in response["HX-Trigger"]
    assert markdown in response.content.decode()
    assert image.content_type == "image/png" and image.uploaded_by == personas.agent
    assert _stored(files_storage) == [image.storage_key]
    assert image.storage_key.startswith(f"kb/{articles.public.pk}/")
    assert ArticleEvent.objects.filter(article=articles.public, fields="images").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("manual.pdf", pdf(), "only png, jpeg, gif and webp"),  # checked, but not an image
        ("drawing.svg", b"<svg onload='alert(1)'/>", "not accepted"),
        ("photo.png", b"GIF89a not a png at all", "does not match"),
        ("photo.exe.png", png(), "hidden .exe"),
    ],
)
def test_anything_but_a_real_raster_image_is_refused_and_nothing_is_stored(
    name, data, code, articles, personas, files_storage
):
    response = _client(personas.agent).post(
        f"/help/articles/{articles.public.slug}/images",
        {"image": upload(name, data)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert code in response.content.decode().replace("&quot;", '"').lower()
    assert not ArticleImage.objects.exists()
    assert _stored(files_storage) == []
    assert not ArticleEvent.objects.filter(fields="images").exists()


def _upload_actions(articles):
    return {
        "public": (articles.public, _row(403, 302, 302, 403, 302, 403)),
        "internal": (articles.internal, _row(404, 302, 302, 403, 302, 404)),
        "draft": (articles.draft, _row(404, 302, 302, 404, 302, 404)),
        "other team's": (articles.other_team, _row(403, 403, 403, 403, 302, 403)),
    }


@pytest.mark.parametrize("action", ["public", "internal", "draft", "other team's"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_upload_permission_matrix(action, persona, articles, personas, files_storage):
    article, expected = _upload_actions(articles)[action]
    response = _client(getattr(personas, persona)).post(
        f"/help/articles/{article.slug}/images", {"image": upload("a.png", png())}
    )
    assert response.status_code == expected[persona]
    written = ArticleImage.objects.filter(article=article).exists()
    assert written == (expected[persona] == 302)
    if not written:
        assert _stored(files_storage) == []


def test_upload_refuses_get_and_sends_the_signed_out_to_sign_in(articles, personas, files_storage):
    path = f"/help/articles/{articles.public.slug}/images"
    assert _client(personas.agent).get(path).status_code == 405
    response = Client().post(path, {"image": upload("a.png", png())})
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert not ArticleImage.objects.exists()


# Who gets which image: the article's own audience decides (portal/kb/access.py).
SERVED = {
    "public": _row(200, 200, 200, 200, 200, 200),
    "internal": _row(404, 200, 200, 200, 200, 404),
    "draft": _row(404, 200, 200, 404, 200, 404),
}


@pytest.mark.parametrize("kind", ["public", "internal", "draft"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_image_audience_matrix(kind, persona, articles, personas, files_storage):
    image = _add(getattr(articles, kind), personas.agent)
    response = _client(getattr(personas, persona)).get(f"/help/images/{image.pk}")
    assert response.status_code == SERVED[kind][persona]
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == png()
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_an_image_stops_reaching_requesters_when_its_article_goes_back_to_draft(
    articles, personas, files_storage
):
    from portal.kb import services

    image = _add(articles.public, personas.agent)
    requester = _client(personas.requester)
    assert requester.get(f"/help/images/{image.pk}").status_code == 200
    services.article_unpublish(actor=personas.agent, article=articles.public)
    assert requester.get(f"/help/images/{image.pk}").status_code == 404


def test_signed_out_visitors_get_no_image(articles, personas, files_storage):
    image = _add(articles.public, personas.agent)
    response = Client().get(f"/help/images/{image.pk}")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_serving_an_image_costs_one_query_after_the_session(
    articles, personas, files_storage, django_assert_num_queries
):
    image = _add(articles.internal, personas.agent)
    client = _client(personas.spoc)
    client.get(f"/help/images/{image.pk}")
    # 1 the session with its user, 2 the image with its article's audience condition
    # (EXISTS subqueries); an image is not a page view, so nothing is counted.
    with django_assert_num_queries(2):
        response = client.get(f"/help/images/{image.pk}")
    assert response.status_code == 200


def test_article_page_shows_its_own_images_and_nothing_else(articles, personas, files_storage):
    from portal.kb import services

    image = _add(articles.public, personas.agent)
    services.article_update(
        actor=personas.agent,
        article=articles.public,
        body=(
            f"Step 1:\n\n![The settings screen](/help/images/{image.pk})\n\n"
            "![tracker](https://evil.example/pixel.png)\n\n"
            "![proto](//evil.example/help/images/1)\n\n"
            "![js](javascript:alert(1))\n\n"
            "![data](data:image/png;base64,AAAA)\n\n"
            f'![x" onerror="alert(1)](/help/images/{image.pk})\n\n'
            f"<img src=/help/images/{image.pk} onerror=alert(2)>\n\n"
            "[click](javascript:alert(3))"
        ),
    )
    html = _client(personas.requester).get(articles.public.get_absolute_url()).content.decode()
    body = html.split('<div class="markdown" hx-disable>', 1)[1].split("</div>", 1)[0]
    assert f'<img alt="The settings screen" src="/help/images/{image.pk}">' in body
    assert "evil.example" not in body
    assert "javascript:" not in body and "data:image" not in body
    elements = _elements(body)
    assert all(name in {"src", "alt", "title", "rel"} for _tag, attrs in elements for name in attrs)
    images = [attrs for tag, attrs in elements if tag == "img"]
    assert len(images) == 6  # the six Markdown images; only two keep a source
    assert [attrs["src"] for attrs in images if "src" in attrs] == [f"/help/images/{image.pk}"] * 2
    assert "&lt;img" in body  # typed HTML is shown as text


def test_api_body_html_keeps_the_articles_own_images(articles, personas, files_storage):
    from portal.api import tokens
    from portal.kb import services

    image = _add(articles.public, personas.agent)
    services.article_update(
        actor=personas.agent,
        article=articles.public,
        body=f"![shot](/help/images/{image.pk}) ![x](https://evil.example/a.png)",
    )
    secret = tokens.token_create(user=personas.requester, name="t").secret
    item = (
        Client()
        .get(f"/api/v1/kb/articles/{articles.public.slug}", HTTP_AUTHORIZATION=f"Bearer {secret}")
        .json()
    )
    assert f'src="/help/images/{image.pk}"' in item["body_html"]
    assert "evil.example" not in item["body_html"]


def test_sweep_knows_only_keys_with_an_image_row(articles, personas, files_storage):
    image = _add(articles.public, personas.agent)
    assert known_storage_keys([image.storage_key, "kb/1/gone.png"]) == {image.storage_key}


def test_edit_page_lists_images_with_their_markdown(articles, personas, files_storage):
    image = _add(articles.public, personas.agent, name="wifi [step] 1.png")
    html = _client(personas.agent).get(f"/help/articles/{articles.public.slug}/edit").content
    assert f"![wifi step 1](/help/images/{image.pk})".encode() in html
    assert Article.objects.get(pk=articles.public.pk).images.count() == 1
