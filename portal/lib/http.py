"""Small request helpers."""

from django.http import Http404, HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict


class NotVisible(Http404):
    """Not there, or not this user's to see: one answer for both, so nobody learns which.

    A link to such a page is routinely shared (a ticket number pasted into a chat), so the
    portal's own 404 page answers it in development too (`NotVisibleMiddleware`), not
    Django's technical 404, which lists every URL pattern to whoever followed the link.
    """


def posted_data(request: HttpRequest) -> QueryDict | None:
    """The submitted data for a POST (even an empty one), None for a GET: bind forms with it.

    `request.POST or None` treats an empty POST as "not submitted" and skips validation.
    """
    return request.POST if request.method == "POST" else None


def posted_files(request: HttpRequest) -> MultiValueDict | None:
    """The uploaded files for a POST, None for a GET: bind forms that take files with
    `Form(posted_data(request), posted_files(request))`."""
    return request.FILES if request.method == "POST" else None


MAX_DATABASE_ID = 2**63 - 1  # the largest bigint primary key


def parse_id(raw) -> int | None:
    """A database id (or another positive whole number, e.g. a ticket version) from user
    input, or None: ASCII digits only, within bigint range. The portal's only parser of ids.

    `int()` alone accepts "+5", " 5", "٥" (Arabic-Indic five) and numbers too large for the
    database, which then fail deep inside a query (an OverflowError on SQLite: a 500).
    """
    raw = getattr(raw, "pk", raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    else:
        return None
    return value if 0 < value <= MAX_DATABASE_ID else None
