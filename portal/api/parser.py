"""How the API reads request bodies: one parser for every endpoint (`NinjaAPI(parser=…)`).

ninja hands every JSON body, form and file field to its parser before any schema sees it,
so the rules that hold for *all* input live here rather than in each endpoint:

- **Content type.** A JSON body must say `Content-Type: application/json`; file and form
  fields must come as `multipart/form-data` (forms also url-encoded). Anything else is a
  415: a body is read as what it says it is (JSON sent as `text/plain` used to be parsed
  anyway, so what a proxy or filter saw and what the portal did could differ).
- **NUL characters.** PostgreSQL cannot store U+0000 in text (the insert fails: a 500) and
  SQLite stores it silently (a title that prints as `a`). A NUL anywhere, in a value or in
  a member name, at any depth, refuses the request with a 422 naming each field, before
  anything is stored. `portal.lib.middleware` refuses it in query strings and url-encoded
  forms for the whole site; this covers JSON and multipart.

The parser runs after authentication and after the path is resolved (a ticket the caller
cannot see is a 404 first: `schemas.VisibleTicket`), so these answers never tell an
outsider anything about a ticket. Damaged multipart bodies fail inside Django before the
parser is reached; `problems.install` answers those (400).
"""

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
NUL = "\x00"
NUL_MESSAGE = "Contains a NUL character (U+0000), which is not allowed."


class InputRefused(Exception):
    """A body refused before validation: a status, a detail and per-field errors.

    ninja wraps whatever `parse_body` raises into a generic 400; `problems` unwraps this
    one again (it is the wrapper's `__cause__`) so the caller gets the real answer.
    """

    def __init__(
        self, status: int, detail: str, *, slug: str | None = None, errors: list[dict] | None = None
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = errors


def nul_paths(data) -> list[str]:
    """Dotted paths (`title`, `items.0.name`) of every string or member name holding NUL.

    Iterative, so a deeply nested body cannot exhaust the stack here after `json.loads`
    accepted it.
    """
    found: list[str] = []
    stack: list[tuple[tuple, object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                found.append(".".join(map(str, path)))
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in key:
                    found.append(".".join(map(str, (*path, key))))
                else:
                    stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return sorted(found)


def _refuse_nul(source: str, paths: list[str]) -> None:
    if paths:
        raise InputRefused(
            422,
            "Text may not contain NUL characters; see `errors`.",
            errors=[{"field": f"{source}.{path}" if path else source, "message": NUL_MESSAGE}
             for path in paths],
        )  # fmt: skip


def _unsupported(request: HttpRequest, expected: str) -> InputRefused:
    sent = request.content_type or "no Content-Type"
    return InputRefused(
        415, f"Send this body as {expected}, not {sent}.", slug="unsupported-media-type"
    )


class StrictParser(Parser):
    def parse_body(self, request: HttpRequest):
        # `content_type is None` only for the parts ninja cuts out of a multipart body
        # (a JSON field next to files): the envelope's type was checked already.
        if request.content_type is not None and request.content_type != JSON:
            if request.content_type in (MULTIPART, URLENCODED) and not (
                request.POST or request.FILES
            ):
                # An empty form is what many clients send for a POST without data (Django's
                # test client, HTML forms): no body, as for an action that needs none.
                return None
            raise _unsupported(request, f"`{JSON}`")
        data = super().parse_body(request)
        _refuse_nul("body", nul_paths(data))
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request):
        # ninja passes request.GET, request.POST or request.FILES; which one says what
        # the endpoint expects. Query strings are checked by the middleware already.
        if data is not request.GET:
            files = data is request.FILES
            allowed = {MULTIPART} if files else {MULTIPART, URLENCODED}
            if request.content_type not in allowed:
                raise _unsupported(request, f"`{MULTIPART}`")
            paths = [key for key in data if NUL in key]
            if not files:
                paths += [key for key, values in data.lists() if any(NUL in v for v in values)]
            _refuse_nul("form", sorted(set(paths)))
        return super().parse_querydict(data, list_fields, request)
