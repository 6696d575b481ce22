"""The placeholders a canned reply may use, and the small formatter that fills them.

A reply's text is user input, so it is never given to a template engine or `str.format`
(either would let `{ticket.__class__}` or `{% debug %}` reach into the server). The
formatter knows a fixed table of names; each maps to a function that returns plain text
from the ticket and the agent. It replaces `{name}` for those names only, in one pass, so
a value that itself contains braces (a title such as `{ticket.number}`) is not expanded
again; anything else in braces, `{{ }}` and `{% %}` included, stays as written. Saving a
reply with an unknown `{a.b}` name is refused, so a typo shows up when it is written.
"""

import re
from collections.abc import Callable

from django.conf import settings

# `{word.word}`: the only shape the formatter looks at (names are lower case).
_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_]+)\}")


def _first_name(user) -> str:
    name = (user.full_name or "").strip()
    return name.split()[0] if name else user.email.split("@")[0]


def _name(user) -> str:
    return (user.full_name or "").strip() or user.email


def _link(ticket) -> str:
    return settings.APP_URL + ticket.get_absolute_url()


# Name → (what it says, how it is computed from ticket and agent). Order is the help's.
PLACEHOLDERS: dict[str, tuple[str, Callable]] = {
    "requester.first_name": ("Requester's first name", lambda t, a: _first_name(t.requester)),
    "requester.name": ("Requester's full name", lambda t, a: _name(t.requester)),
    "requester.email": ("Requester's email address", lambda t, a: t.requester.email),
    "ticket.number": ("Ticket number (TKT-000123)", lambda t, a: t.number),
    "ticket.title": ("Ticket title", lambda t, a: t.title),
    "ticket.status": ("Ticket status", lambda t, a: t.get_status_display()),
    "ticket.priority": ("Ticket priority", lambda t, a: t.get_priority_display()),
    "ticket.category": ("Ticket category", lambda t, a: t.category.name),
    "ticket.team": ("Team working the ticket", lambda t, a: t.team.name if t.team else ""),
    "ticket.url": ("Link to the ticket", lambda t, a: _link(t)),
    "agent.first_name": ("Your first name", lambda t, a: _first_name(a)),
    "agent.name": ("Your full name", lambda t, a: _name(a)),
    "agent.email": ("Your email address", lambda t, a: a.email),
}


def unknown_placeholders(text: str) -> list[str]:
    """`{a.b}` names in `text` that are not placeholders, in order of appearance."""
    seen: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def fill(text: str, *, ticket, agent) -> str:
    """`text` with every known `{name}` replaced by its value for this ticket and agent."""
    values: dict[str, str] = {}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        if name not in values:
            values[name] = str(PLACEHOLDERS[name][1](ticket, agent))
        return values[name]

    return _TOKEN.sub(value, text)
