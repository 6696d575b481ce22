"""Finding articles: the /help search and the new-ticket suggestions.

PostgreSQL: a weighted text vector (title A, body B) with the 'english' configuration
(articles are prose, so "resetting" should find "reset"), stored per article in
`search_document` by the services (`article_vector()`) and GIN-indexed (migration 0003),
matched against the query and ranked with `ts_rank` on the stored vector (recomputing it
for every match cost 110 ms at 10,000 articles; see docs/knowledge-base.md).
- search (`/help?q=`): `websearch_to_tsquery` (every word, "quoted phrases", -not),
  with `ts_headline` snippets;
- suggestions (the new-ticket form): any word of the title being typed, the last one as a
  prefix, ranked by `ts_rank` plus a boost for the group and category picked on the form.
SQLite (the embedded default): case-insensitive substring matching, scored by the words
found in the title (3) or body (1) plus the same boosts; no stemming.

Snippets never pass user text through `|safe`: the database marks matches with control
characters (which article bodies cannot contain, see services._CONTROL), the text is
HTML-escaped, and only then are the markers turned into <mark> elements (`highlight`).
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, FloatField, IntegerField, Q, Value, When
from django.db.models.functions import Substr
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.kb.models import Article

CONFIG = "english"
HIGHLIGHT_START, HIGHLIGHT_STOP = "\x02", "\x03"
SEARCH_LIMIT = 25
SUGGESTION_LIMIT = 5
MAX_WORDS = 8
# The boosts for the classification picked on the form (ts_rank of one title word ≈ 0.6).
CATEGORY_BOOST, GROUP_BOOST = 0.3, 0.1
_WORD = re.compile(r"[^\W_]+")


def article_vector() -> SearchVector:
    """What `Article.search_document` holds (written by the services, filled by 0003)."""
    return SearchVector("title", weight="A", config=CONFIG) + SearchVector(
        "body", weight="B", config=CONFIG
    )


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def words_of(text: str) -> list[str]:
    """Letters-and-digits words only: nothing of to_tsquery's syntax survives."""
    return [w for w in _WORD.findall((text or "").lower()) if len(w) >= 2][:MAX_WORDS]


def highlight(text: str) -> SafeString:
    """Escaped `text` with the database's match markers as <mark> elements."""
    escaped = escape(text.replace(HIGHLIGHT_STOP + HIGHLIGHT_START, ""))
    return mark_safe(  # noqa: S308 (escaped above; only our own markers become tags)
        escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_STOP, "</mark>")
    )


@dataclass(frozen=True)
class Hit:
    article: Article
    snippet: SafeString


def search(articles, text: str, *, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """The best `limit` of `articles` (already narrowed by the access layer) for `text`."""
    text = " ".join((text or "").split())[:200]
    if not text:
        return []
    if is_postgresql():
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        rows = (
            articles.filter(search_document=query)
            .annotate(
                _rank=SearchRank(F("search_document"), query),
                _snippet=SearchHeadline(
                    "body",
                    query,
                    config=CONFIG,
                    start_sel=HIGHLIGHT_START,
                    stop_sel=HIGHLIGHT_STOP,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )  # fmt: skip
            .order_by("-_rank", "-id")
            .defer("body", "search_document")[:limit]
        )
        return [Hit(row, highlight(row._snippet)) for row in rows]
    words = words_of(text)
    if not words:
        return []
    condition = Q()
    for word in words:  # every word, like websearch_to_tsquery
        condition &= Q(title__icontains=word) | Q(body__icontains=word)
    rows = (
        articles.filter(condition)
        .annotate(_score=_substring_score(words))
        .order_by("-_score", "-id")[:limit]
    )
    return [Hit(row, _substring_snippet(row.body, words)) for row in rows]


def _substring_score(words: list[str]):
    score = Value(0)
    for word in words:
        score = score + Case(
            When(title__icontains=word, then=Value(3)),
            When(body__icontains=word, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return score


def _substring_snippet(body: str, words: list[str], width: int = 200) -> SafeString:
    """SQLite's stand-in for ts_headline: the text around the first match, marked."""
    lower = body.lower()
    found = [(lower.find(w), w) for w in words if lower.find(w) >= 0]
    start = max(0, min(found)[0] - 60) if found else 0
    excerpt = body[start : start + width]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    marked = pattern.sub(lambda m: f"{HIGHLIGHT_START}{m.group(0)}{HIGHLIGHT_STOP}", excerpt)
    return highlight(("… " if start else "") + marked + (" …" if start + width < len(body) else ""))


def suggest(
    articles,
    title: str,
    *,
    group_id: int | None = None,
    category_id: int | None = None,
    limit: int = SUGGESTION_LIMIT,
) -> list[Article]:
    """The best few of `articles` for a ticket being written, in ONE query.

    No words yet but a classification picked: that category's (or group's) most helpful
    articles. The body is not loaded (the box shows titles and a short excerpt).
    """
    words = words_of(title)
    boost = _classification_boost(group_id, category_id)
    columns = ("slug", "title", "category_id", "group_id", "audience", "helpful_yes")
    if not words:
        if not (group_id or category_id):
            return []
        where = Q(category_id=category_id) if category_id else Q(group_id=group_id)
        rows = articles.filter(where).order_by("-helpful_yes", "-id")
        return list(rows.only(*columns).annotate(excerpt=Substr("body", 1, 160))[:limit])
    if is_postgresql():
        terms = [*words[:-1], f"{words[-1]}:*"]
        query = SearchQuery(" | ".join(terms), config=CONFIG, search_type="raw")
        rows = articles.filter(search_document=query).annotate(
            _score=SearchRank(F("search_document"), query) + boost
        )
    else:
        condition = Q()
        for word in words:
            condition |= Q(title__icontains=word) | Q(body__icontains=word)
        rows = articles.filter(condition).annotate(_score=_substring_score(words) + boost * 10)
    rows = rows.order_by("-_score", "-helpful_yes", "-id").only(*columns)
    return list(rows.annotate(excerpt=Substr("body", 1, 160))[:limit])


def _classification_boost(group_id: int | None, category_id: int | None):
    whens = []
    if category_id:
        whens.append(When(category_id=category_id, then=Value(CATEGORY_BOOST)))
    if group_id:
        whens.append(When(group_id=group_id, then=Value(GROUP_BOOST)))
    if not whens:
        return Value(0.0, output_field=FloatField())
    return Case(*whens, default=Value(0.0), output_field=FloatField())
