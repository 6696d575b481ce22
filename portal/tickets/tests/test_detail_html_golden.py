"""The ticket page's comments, files and history written in Python (detail_html.py) are
the HTML the template loops they replaced wrote, byte for byte, in every branch: images
and other files, no comments, internal comments, the "help article" form offered or not,
an event with no one behind it, a reason or none, and hostile text everywhere."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import Context, Engine
from django.utils.safestring import mark_safe

from portal.lib.dates import ShortDates
from portal.tickets import detail_html
from portal.tickets.detail_html import (
    attachments_html,
    comment_items,
    csrf_input,
    history_items,
    url_for_pk,
)

# The loops of tickets/detail.html and tickets/_attachments.html before ad34d6e (comments
# kept: they render nothing). `event|event_sentence` reads `event.sentence` here, which the
# test sets to what history.sentence says.
ATTACHMENTS = (  # fmt: skip
    "{# A list of files (`files`): raster images as thumbnails, everything else a download link. Names are escaped by the template engine. #}\n"  # noqa: E501
    "{% if files %}\n"
    '<ul class="attachments">\n'
    "  {% for file in files %}\n"
    '  <li class="attachment">\n'
    "    {% url 'attachment-download' file.pk as download_url %}\n"
    "    {# The thumbnail repeats the name link beside it: hidden from keyboards and screen readers so each file is one link. #}\n"  # noqa: E501
    '    {% if file.is_image %}<a href="{{ download_url }}" class="attachment-thumb" tabindex="-1" aria-hidden="true"><img src="{{ download_url }}?inline=1" alt="" loading="lazy" width="96" height="96"></a>{% endif %}\n'  # noqa: E501
    '    <span class="attachment-info">\n'
    '      <a href="{{ download_url }}" download>{{ file.original_name }}</a>\n'
    '      <span class="muted">{{ file.size|filesizeformat }} · {{ file.media_type }} · {{ file.uploader }} · <time datetime="{{ file.created_at|date:\'c\' }}">{{ file.created_at|date:"j M Y H:i" }}</time></span>\n'  # noqa: E501
    "    </span>\n"
    "  </li>\n"
    "  {% endfor %}\n"
    "</ul>\n"
    "{% endif %}\n"
)

COMMENTS = (  # fmt: skip
    "{% for comment in comments %}\n"
    '          <li class="comment card{% if comment.is_internal %} comment-internal{% endif %}" id="comment-{{ comment.pk }}">\n'  # noqa: E501
    '            <p class="comment-meta"><strong>{{ comment.author }}</strong> <time datetime="{{ comment.created_iso }}">{{ comment.created_label }}</time>{% if comment.is_internal %} <span class="tag">Internal</span>{% endif %}</p>\n'  # noqa: E501
    '            <div class="markdown" hx-disable>{{ comment.body_html }}</div>\n'
    '            {% include "tickets/_attachments.html" with files=comment.files %}\n'
    '            {% if may_write_articles %}<form method="post" action="{% url \'ticket-comment-article\' ticket.number comment.pk %}" class="inline comment-to-article">{% csrf_token %}<button type="submit" class="small">Make a help article</button></form>{% endif %}\n'  # noqa: E501
    "          </li>\n"
    "          {% empty %}\n"
    '          <li class="muted">No comments yet.</li>\n'
    "          {% endfor %}"
)

HISTORY = (  # fmt: skip
    "{% for event in events %}\n"
    "          <li>\n"
    '            <time datetime="{{ event.created_iso }}">{{ event.created_label }}</time>\n'
    '            <span>{{ event.actor|default:"System" }}</span>\n'
    "            {{ event.sentence }}\n"
    '            {% if event.reason %}<span class="muted" hx-disable>— {{ event.reason }}</span>{% endif %}\n'  # noqa: E501
    "          </li>\n"
    "          {% endfor %}"
)

HOSTILE = '<b onmouseover="x">&\'"'
NUMBER = "TKT-000042"
TOKEN = "a" * 64


def _engine() -> Engine:
    return Engine(
        loaders=[
            ("django.template.loaders.locmem.Loader", {"tickets/_attachments.html": ATTACHMENTS})
        ]
    )


def _render(source: str, **context) -> str:
    return _engine().from_string(source).render(Context(context))


def _file(pk: int, name: str, *, image: bool, uploader: str = "Ann Agent"):
    when = dt.datetime(2026, 3, 9, 7, 5, tzinfo=dt.UTC)
    return SimpleNamespace(
        pk=pk, original_name=name, is_image=image, size=123_456, media_type="image/png"
        if image else "application/pdf", uploader=uploader, created_at=when,
    )  # fmt: skip


def _comment(pk: int, *, internal: bool, files: list, author: str = "Ann Agent"):
    return SimpleNamespace(
        pk=pk, author=author, is_internal=internal, files=files,
        created_iso="2026-03-09T08:05:00+01:00", created_label="9 Mar 2026 08:05",
        body_html=mark_safe("<p>Checked the <em>printer</em>.</p>"),  # noqa: S308 (sanitised upstream)
    )  # fmt: skip


FILES = [
    [],
    [_file(7, "screen.png", image=True)],
    [_file(8, "manual.pdf", image=False), _file(9, f"{HOSTILE}.png", image=True, uploader=HOSTILE)],
]


@pytest.mark.parametrize("files", FILES)
def test_a_list_of_files_is_what_the_include_wrote(files):
    expected = _render(ATTACHMENTS, files=files)
    assert attachments_html(files, ShortDates(), url_for_pk("attachment-download")) == expected


@pytest.mark.parametrize("offered", [True, False])
@pytest.mark.parametrize(
    "comments",
    [
        [],
        [_comment(1, internal=False, files=[])],
        [
            _comment(2, internal=True, files=FILES[1]),
            _comment(3, internal=False, files=FILES[2], author=HOSTILE),
        ],
    ],
)
def test_the_comments_are_what_the_loop_wrote(comments, offered):
    ticket = SimpleNamespace(number=NUMBER)
    expected = _render(
        COMMENTS, comments=comments, may_write_articles=offered, ticket=ticket, csrf_token=TOKEN
    )
    written = comment_items(
        comments,
        article_url=url_for_pk("ticket-comment-article", NUMBER) if offered else None,
        csrf=csrf_input(TOKEN),
        dates=ShortDates(),
        download=url_for_pk("attachment-download"),
    )
    assert written == expected
    assert HOSTILE not in written


def test_the_history_is_what_the_loop_wrote(monkeypatch):
    monkeypatch.setattr(detail_html.history, "sentence", lambda event: event.sentence)
    events = [
        SimpleNamespace(
            created_iso="2026-03-09T08:05:00+01:00",
            created_label="9 Mar 2026 08:05",
            actor=actor,
            sentence=sentence,
            reason=reason,
        )  # fmt: skip
        for actor, sentence, reason in [
            ("Ann Agent", "raised the ticket", ""),
            (None, "routed it to Team A", "No one on duty"),
            (HOSTILE, f"changed the title to {HOSTILE}", HOSTILE),
        ]
    ]
    written = history_items(events)
    assert written == _render(HISTORY, events=events)
    assert HOSTILE not in written
