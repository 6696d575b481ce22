"""`render_many`: the ticket page's Markdown from the shared cache, never different from
rendering it again, and never HTML made for another image allow-list."""

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


def test_plain_prose_is_written_without_the_cache(monkeypatch):
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


# Prose as people type it: words, numbers, punctuation Markdown ignores and some it does
# not (list numbers, indents, trailing spaces, blank lines of spaces, emphasis, `&`, `<`).
_PROSE = st.lists(
    st.sampled_from(
        list("abcXYZ019 ,.;:?!()-'\"/@%$\n")
        + ["  ", "\n\n", "1. ", "- ", "---", "==", "*", "&", "<b>", "[a]", "\t", "é"]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(text=_PROSE)
def test_plain_prose_renders_as_markdown_and_the_sanitiser_render_it(text):
    """The shortcut for plain prose (`_paragraphs`) writes what Markdown and nh3 write, and
    anything else goes through them."""
    assert markdown.render(text) == markdown._converted(text)


def test_everyday_ticket_text_takes_the_shortcut():
    text = "Since yesterday my monitor is missing in the Prague office.\nMy manager approved it."
    assert markdown._paragraphs(text) == (
        "<p>Since yesterday my monitor is missing in the Prague office.\n"
        "My manager approved it.</p>"
    )
    assert markdown._paragraphs("Fixed in **v2**") is None
