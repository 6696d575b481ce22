"""Counting the requests an article answered, without knowing who asked.

1. The new-ticket form carries a random *visit* id (`new_visit`; a hidden field in the
   suggestion box, kept when the form re-renders with errors).
2. Each suggested link carries a signed token naming that visit, the article and the
   category picked on the form (`link_token`): only articles the portal itself suggested
   count, and nobody can forge one for another article.
3. Opening the article with a valid token records one `Deflection` for the visit
   (`services.deflection_record`: unique per visit, so reloading or opening three
   suggestions still counts one).
4. If the same form raises a ticket after all, the ticket view calls `visit_raised_ticket`
   and the deflection no longer counts. What remains is "opened a suggestion and left
   without raising the ticket". A form that never listed a suggestion (its `kb_shown`
   field still empty: the suggestions set it when they list one) cannot have opened
   one, so it raises its ticket without that UPDATE: most tickets are raised so.
No user id is stored or signed: the visit id is random and lives only in the form.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from django.core import signing
from django.utils import timezone

from portal.kb import services

SALT = "portal.kb.suggestion"
# A suggestion opened a day after it was shown no longer counts (the token expires).
MAX_AGE_SECONDS = 24 * 3600


def new_visit() -> str:
    return uuid.uuid4().hex


def parse_visit(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=str(raw or "")[:64])
    except ValueError:
        return None


def link_token(visit: uuid.UUID, article_id: int, category_id: int | None) -> str:
    return signing.dumps([visit.hex, article_id, category_id or 0], salt=SALT, compress=False)


def read_token(token: str, *, max_age: int = MAX_AGE_SECONDS) -> tuple | None:
    """(visit, article id, category id or None), or None for a bad or expired token."""
    try:
        visit_hex, article_id, category_id = signing.loads(
            (token or "")[:300], salt=SALT, max_age=max_age
        )
        return uuid.UUID(hex=visit_hex), int(article_id), int(category_id) or None
    except (signing.BadSignature, ValueError, TypeError):
        return None


def opened(token: str, article, *, now=None) -> bool:
    """Record a deflection if `token` is a valid suggestion of `article` (True: counted)."""
    parsed = read_token(token)
    if parsed is None or parsed[1] != article.pk or not article.is_published:
        return False
    visit, _, category_id = parsed
    return services.deflection_record(
        visit=visit, article=article, category_id=category_id, now=now or timezone.now()
    )


def suggestions_shown(posted: Mapping[str, Any]) -> bool:
    """Whether the posted new-ticket form listed a suggestion (its `kb_shown` field)."""
    return posted.get("kb_shown") == "1"


def visit_raised_ticket(posted: Mapping[str, Any]) -> None:
    """The posted new-ticket form raised its ticket: not a deflection after all, if its
    visit opened a suggestion (none can have been opened if none was listed)."""
    visit = parse_visit(posted.get("kb_visit"))
    if visit is not None and suggestions_shown(posted):
        services.deflection_undo(visit=visit)
