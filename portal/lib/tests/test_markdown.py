"""`render_many`: the ticket page's Markdown from the shared cache, never different from
rendering it again, and never HTML made for another image allow-list."""

import html
import re

import pytest
from django.core.cache import cache
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.lib import markdown

TEXTS = [
    "**bold** and [docs](https://example.com)",
    "",
    "<script>x</script>",
    "**bold** and [docs](https://example.com)",
]
HELP_IMAGES = re.compile(r"/help/images/[0-9]+")
IMAGE = "![diagram](/help/images/7)"


def test_render_many_gives_what_render_gives_in_order():
    expected = [markdown.render(text) for text in TEXTS]
    assert markdown.render_many(TEXTS) == expected  # rendered and stored
    assert markdown.render_many(TEXTS) == expected  # read back


def test_a_second_page_reads_the_html_from_the_cache(monkeypatch):
    first = markdown.render_many(TEXTS)

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again although cached")

    monkeypatch.setattr(markdown, "_converted", no_rendering)
    assert markdown.render_many(TEXTS) == first


def test_plain_prose_is_written_without_the_cache():
    """Writing its paragraphs costs less than reading them back: nothing is kept."""
    assert markdown.render_many(["Plain words, nothing more."]) == [
        "<p>Plain words, nothing more.</p>"
    ]
    assert cache.get(markdown._cache_key("Plain words, nothing more.", None)) is None


def test_a_lost_cache_costs_a_rendering_not_a_different_page():
    first = markdown.render_many(TEXTS)
    cache.clear()
    assert markdown.render_many(TEXTS) == first


def test_html_that_kept_an_image_is_not_served_where_images_are_dropped():
    with_images = markdown.render_many([IMAGE], image_src=HELP_IMAGES)
    assert 'src="/help/images/7"' in with_images[0]
    # The same text for a ticket (no image allow-list) after the knowledge base cached it.
    assert "src=" not in markdown.render_many([IMAGE])[0]
    assert "src=" not in markdown.render_many([IMAGE], image_src=re.compile(r"/other/[0-9]+"))[0]


@pytest.mark.parametrize(
    ("setting", "other"),
    [
        ("LINK_REL", "noopener"),
        ("STRIP_COMMENTS", False),
        ("REMOVED_PROCESSORS", (("preprocessors", "html_block"),)),
    ],
)
def test_a_changed_safety_setting_changes_the_cache_key(setting, other, monkeypatch):
    assert markdown.renderer_fingerprint() == markdown.FINGERPRINT
    monkeypatch.setattr(markdown, setting, other)
    assert markdown.renderer_fingerprint() != markdown.FINGERPRINT


def test_links_get_the_rel_the_module_names(monkeypatch):
    text = "[docs](https://example.com)"
    assert 'rel="noopener noreferrer nofollow"' in markdown.render(text)
    monkeypatch.setattr(markdown, "LINK_REL", "noopener")
    assert 'rel="noopener"' in markdown.render(text)


# Plain prose as people type it (the shortcut's own domain), and half the time one thing
# Markdown or HTML does read put in somewhere: most examples take the shortcut, and each
# rule of it is crossed.
_SAFE = "abcXYZ019 ,.;:?!()-'\"/@%$"
_SPECIAL = [
    "  ", " ", "*", "&", "<", ">", "_", "#", "`", "~", "|", "\\", "+", "=", "[", "]",
    "\t", "\r", "é", "\u00a0", "1. ", "- ", "---", "===", "<b>", "[a](b)", "\n \n",
]  # fmt: skip


@st.composite
def _prose(draw) -> str:
    line = st.tuples(st.sampled_from("abcXYZ"), st.text(_SAFE, max_size=15)).map("".join)
    lines = draw(
        st.lists(st.just("") | line.map(lambda s: s.rstrip(" ") or "a"), min_size=1, max_size=6)
    )
    text = "\n".join(lines)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_SPECIAL)) + text[at:]
    return text


@settings(max_examples=3000, deadline=None)
@given(text=_prose())
def test_plain_prose_renders_as_markdown_and_the_sanitiser_render_it(text):
    """The shortcut for plain prose (`_paragraphs`) writes what Markdown and nh3 write, and
    anything else goes through them."""
    assert markdown.render(text) == markdown._converted(text)


@pytest.mark.parametrize(
    "text",
    [
        "a  \nb", "a\n===", "a\n---", "a\n- b", "a\n1. b", "a\r\nb", "a\tb", "a\n \nb",
        "Tom & Jerry", "a > b", "# a", "a\u00a0b", "\na\n\n\nb\n", "a <b>c</b>", "x  ",
    ],
)  # fmt: skip
def test_each_rule_of_the_shortcut_holds(text):
    """What Markdown reads in prose (hard breaks, setext headings, lists, line endings,
    tabs, blank lines of spaces, entities, headings): the shortcut leaves it to Markdown
    or writes what Markdown writes."""
    assert markdown.render(text) == markdown._converted(text)


def test_no_character_the_shortcut_admits_means_anything_in_html():
    admitted = [chr(c) for c in range(0x110000) if markdown._PLAIN_TEXT.fullmatch(chr(c))]
    assert admitted and all(html.escape(c) in (c, "&quot;", "&#x27;") for c in admitted)
    assert all(c == "\n" or (c.isascii() and c.isprintable()) for c in admitted)


def test_markup_is_refused_even_by_an_allow_list_widened_by_mistake(monkeypatch):
    monkeypatch.setattr(markdown, "_PLAIN_TEXT", re.compile(r"[^\t]*"))  # anything but tabs
    for text in ("a <script>x</script>", "a & b", "a > b"):
        assert markdown._paragraphs(text) is None, text
        assert "<script>" not in markdown.render(text)


def test_everyday_ticket_text_takes_the_shortcut():
    text = "Since yesterday my monitor is missing in the Prague office.\nMy manager approved it."
    assert markdown._paragraphs(text) == (
        "<p>Since yesterday my monitor is missing in the Prague office.\n"
        "My manager approved it.</p>"
    )
    assert markdown._paragraphs("Fixed in **v2**") is None
