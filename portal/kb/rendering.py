"""An article's body as HTML: the portal's Markdown sanitiser (portal/lib/markdown.py),
keeping images only when their address is one of the portal's own article images
(`/help/images/<id>`, served by `kb.views.article_image` after the article's audience
check). Pages (`article_markdown` filter) and the API (`body_html`) both use it.

An image the reader cannot be shown (removed from its article, never uploaded, or of an
article the reader may not open) is not left as a broken picture: it becomes the text
"Image not available: <its description>". Which images can be shown is one query for a
page or an API list (`available_images`), and none when no body names an image.
"""

import html
import re
from collections.abc import Collection, Iterable

from portal.lib import markdown

IMAGE_SRC = re.compile(r"/help/images/[1-9][0-9]{0,18}")
# Any mention of an image address in the Markdown (a superset of what renders as one).
IMAGE_REFERENCE = re.compile(r"/help/images/([1-9][0-9]{0,18})(?![0-9])")
# An <img> as nh3 writes it: each attribute `name="value"`, with `"` in a value written
# `&quot;`, so a `"` always ends a value and `<img` inside a value never matches with a src.
IMG_TAG = re.compile(r'<img((?: [a-z]+="[^"]*")*)>')
ATTRIBUTE = re.compile(r' ([a-z]+)="([^"]*)"')
IMAGE_PATH = "/help/images/"


def referenced_images(text: str) -> set[int]:
    """Ids of every `/help/images/<id>` address written in `text`."""
    return {int(found) for found in IMAGE_REFERENCE.findall(text or "")}


def available_images(user, texts: Iterable[str]) -> frozenset[int]:
    """The images named in `texts` that `user` may be shown (their article's audience, as
    `kb.views.article_image` serves them): one query, none when no image is named."""
    from portal.kb.models import Article, ArticleImage

    named = set().union(*(referenced_images(text) for text in texts))
    if not named:
        return frozenset()
    visible = Article.objects.visible_to(user).values("pk")
    rows = ArticleImage.objects.filter(pk__in=named, article__in=visible)
    return frozenset(rows.values_list("pk", flat=True))


def article_html(text: str, *, available: Collection[int]) -> str:
    """Sanitised HTML (plain `str`: the caller marks it safe where it is trusted); an
    image whose id is not in `available` is replaced by a short text."""
    rendered = markdown.render(text, image_src=IMAGE_SRC)

    def unavailable_to_text(tag: re.Match[str]) -> str:
        attributes = dict(ATTRIBUTE.findall(tag.group(1)))
        src = attributes.get("src", "")
        if not src.startswith(IMAGE_PATH) or int(src[len(IMAGE_PATH) :]) in available:
            return tag.group(0)
        alt = html.unescape(attributes.get("alt", "")).strip()
        label = f"Image not available: {alt}" if alt else "Image not available"
        return f'<span class="kb-image-missing">{html.escape(label)}</span>'

    return IMG_TAG.sub(unavailable_to_text, rendered)
