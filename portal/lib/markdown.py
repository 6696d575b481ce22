"""Markdown for descriptions, comments and knowledge-base articles: rendered on the server,
then sanitised.

Two layers, so one mistake is not enough for script to get through:
1. Python-Markdown with its raw-HTML handling switched off, so `<b>` or `<script>` typed by
   a person is shown as text, not passed through as markup;
2. nh3 (an allow-list sanitiser) keeps only the tags and attributes Markdown itself
   produces, and only http(s)/mailto links: `javascript:` and `data:` URLs are dropped.
Links get rel="noopener noreferrer nofollow". Templates still wrap the result in an
`hx-disable` container so htmx never acts on attributes inside user content.

Images are dropped, except where the caller names the portal's own image addresses
(`image_src`, a pattern the whole `src` must match: the knowledge base's access-checked
`/help/images/<id>`): an image from anywhere else would let a body make every reader's
browser call a server of the author's choosing.
"""

import re
import threading

import markdown as python_markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE = 40_000


_local = threading.local()


def _converter() -> python_markdown.Markdown:
    """This thread's Markdown instance. Building one (extensions, pattern tables) costs
    about as much as converting a comment, and a ticket page renders twenty; instances keep
    state between documents, so `render` resets it before each use."""
    md = getattr(_local, "md", None)
    if md is None:
        md = python_markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
        # No raw HTML: typed tags become visible text instead of markup.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        _local.md = md
    return md


IMAGE_ATTRIBUTES = {"src", "alt", "title"}


def _only_images_from(pattern: re.Pattern[str]):
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not pattern.fullmatch(value):
            return None
        return value

    return keep


def render(text: str, *, image_src: re.Pattern[str] | None = None) -> str:
    """Safe HTML for `text`; `<img>` only with a `src` that fully matches `image_src`
    (an image whose address does not match keeps its alt text's element without a source,
    which loads nothing)."""
    md = _converter()
    md.reset()
    html = md.convert((text or "")[:MAX_SOURCE])
    tags, attributes, keep = ALLOWED_TAGS, ALLOWED_ATTRIBUTES, None
    if image_src is not None:
        tags = ALLOWED_TAGS | {"img"}
        attributes = {**ALLOWED_ATTRIBUTES, "img": IMAGE_ATTRIBUTES}
        keep = _only_images_from(image_src)
    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        attribute_filter=keep,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
