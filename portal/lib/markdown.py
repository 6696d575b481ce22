"""Markdown for descriptions, comments and knowledge-base articles: rendered on the server,
then sanitised.

Two layers, so one mistake is not enough for script to get through:
1. Python-Markdown with its raw-HTML handling switched off, so `<b>` or `<script>` typed by
   a person is shown as text, not passed through as markup;
2. nh3 (an allow-list sanitiser) keeps only the tags and attributes Markdown itself
   produces, and only http(s)/mailto links: `javascript:` and `data:` URLs are dropped.
Links get rel="noopener noreferrer nofollow". Templates still wrap the result in an
`hx-disable` container so htmx never acts on attributes inside user content.

Plain prose (`_paragraphs`: letters, digits, spaces and punctuation neither Markdown nor
HTML gives a meaning to) skips both layers: its paragraphs are written as they are, which is
what both layers would write (a property test holds them equal). It is safe by two checks
of its own, so one mistake is still not enough: the allow-list of characters admits nothing
HTML reads in element content (a test goes through every character), and `<`, `>` and `&`
are refused again on their own should the list ever be widened.

Images are dropped, except where the caller names the portal's own image addresses
(`image_src`, a pattern the whole `src` must match: the knowledge base's access-checked
`/help/images/<id>`): an image from anywhere else would let a body make every reader's
browser call a server of the author's choosing.

Converting is the slow part (a ticket page with twenty comments spent a quarter of its
time here), and a text renders the same until this module or its libraries change, so
`render_many` keeps the result of any text but plain prose in the shared cache under a
digest of everything the output depends on: the text, the image pattern and this
renderer's fingerprint. A lost entry is rendered again; an entry cannot be served for a
text, a pattern or a renderer it was not made with.
"""

import hashlib
import importlib.metadata
import re
import threading
from collections.abc import Iterable, Sequence

import markdown as python_markdown
import nh3
from django.core.cache import cache

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE = 40_000
EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
# No raw HTML: typed tags become visible text instead of markup (registry, processor name).
REMOVED_PROCESSORS = (("preprocessors", "html_block"), ("inlinePatterns", "html"))
LINK_REL = "noopener noreferrer nofollow"
STRIP_COMMENTS = True


_local = threading.local()


def _converter() -> python_markdown.Markdown:
    """This thread's Markdown instance. Building one (extensions, pattern tables) costs
    about as much as converting a comment, and a ticket page renders twenty; instances keep
    state between documents, so `render` resets it before each use."""
    md = getattr(_local, "md", None)
    if md is None:
        md = python_markdown.Markdown(extensions=EXTENSIONS)
        for registry, name in REMOVED_PROCESSORS:
            getattr(md, registry).deregister(name)
        _local.md = md
    return md


IMAGE_ATTRIBUTES = {"src", "alt", "title"}


def _only_images_from(pattern: re.Pattern[str]):
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not pattern.fullmatch(value):
            return None
        return value

    return keep


# Plain prose: letters, digits, spaces and punctuation Markdown gives no meaning to, each
# line beginning with a letter (not a list's number, not indented) and not ending in a space
# (two make a line break). Most ticket texts are such prose, and Markdown takes ~70 µs to
# turn one into paragraphs; `_paragraphs` writes what it would (portal/lib/tests/
# test_markdown.py holds the two equal on generated texts). No character it admits means
# anything in HTML element content (no `<`, `>` or `&`), so the text is its own HTML.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 ,.;:?!()'\"/@%$\n-]*")
_HTML_SPECIAL = frozenset("<>&")
_PLAIN_LINE = re.compile(r"(?:[A-Za-z](?:[^\n]*[^ \n])?)?")
_BLANK_LINES = re.compile(r"\n{2,}")


def _paragraphs(text: str) -> str | None:
    """What Markdown and the sanitiser make of plain prose (above): its paragraphs, their
    lines as written; None for any other text."""
    if not _PLAIN_TEXT.fullmatch(text) or not _HTML_SPECIAL.isdisjoint(text):
        return None
    if not all(_PLAIN_LINE.fullmatch(line) for line in text.split("\n")):
        return None
    blocks = _BLANK_LINES.split(text.strip("\n"))
    return "\n".join(f"<p>{block}</p>" for block in blocks if block)


def render(text: str, *, image_src: re.Pattern[str] | None = None) -> str:
    """Safe HTML for `text`; `<img>` only with a `src` that fully matches `image_src`
    (an image whose address does not match keeps its alt text's element without a source,
    which loads nothing)."""
    text = (text or "")[:MAX_SOURCE]
    plain = _paragraphs(text)
    if plain is not None:
        return plain
    return _converted(text, image_src=image_src)


def _converted(text: str, *, image_src: re.Pattern[str] | None = None) -> str:
    """`render` by Markdown and the sanitiser, for any text."""
    md = _converter()
    md.reset()
    html = md.convert(text)
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
        link_rel=LINK_REL,
        strip_comments=STRIP_COMMENTS,
    )


# Bump when `render` produces different HTML for the same input in a way the fingerprint
# below cannot see (a change of its code rather than of its settings or libraries).
RENDERER_VERSION = 1
CACHE_SECONDS = 7 * 24 * 3600


def renderer_fingerprint() -> str:
    """Everything besides the text and the image pattern that decides the output: cached
    HTML made by another renderer (older allow-lists, rel or comment rules, raw HTML let
    through, another Markdown or nh3) is never served."""
    return hashlib.sha256(
        repr(
            (
                RENDERER_VERSION,
                sorted(ALLOWED_TAGS),
                sorted((tag, sorted(names)) for tag, names in ALLOWED_ATTRIBUTES.items()),
                sorted(URL_SCHEMES),
                sorted(IMAGE_ATTRIBUTES),
                MAX_SOURCE,
                EXTENSIONS,
                REMOVED_PROCESSORS,
                LINK_REL,
                STRIP_COMMENTS,
                importlib.metadata.version("markdown"),
                importlib.metadata.version("nh3"),
            )
        ).encode()
    ).hexdigest()[:16]


FINGERPRINT = renderer_fingerprint()


def _cache_key(text: str, image_src: re.Pattern[str] | None) -> str:
    # The image pattern is part of the key: HTML that kept an image for the knowledge base
    # must never be served where images are dropped (or kept from other addresses).
    pattern = "" if image_src is None else f"{image_src.flags}:{image_src.pattern}"
    digest = hashlib.sha256(f"{pattern}\0{text[:MAX_SOURCE]}".encode()).hexdigest()
    return f"markdown:{FINGERPRINT}:{digest}"


def render_many(texts: Sequence[str], *, image_src: re.Pattern[str] | None = None) -> list[str]:
    """`render` of each text, in order: plain prose written at once (`_paragraphs`: cheaper
    than a cache read), the rest from one cache read, those not cached yet rendered and
    stored for the next reader."""
    html = {text: _paragraphs(text[:MAX_SOURCE]) for text in texts if text}
    keys = {text: _cache_key(text, image_src) for text, made in html.items() if made is None}
    if keys:
        found = cache.get_many(list(keys.values()))
        fresh = {}
        for text, key in keys.items():
            if key not in found:
                found[key] = fresh[key] = _converted(text[:MAX_SOURCE], image_src=image_src)
            html[text] = found[key]
        if fresh:
            cache.set_many(fresh, CACHE_SECONDS)
    return [html.get(text) or "" for text in texts]


def forget(texts: Iterable[str], *, image_src: re.Pattern[str] | None = None) -> None:
    """Drop the cached HTML of `texts`: for a text rewritten because of what it said (an
    erased person's name), not a mere edit, whose old entry would simply expire unread."""
    keys = [_cache_key(text, image_src) for text in texts if text]
    if keys:
        cache.delete_many(keys)
