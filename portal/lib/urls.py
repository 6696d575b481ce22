"""A URL around one ticket number or row id, reversed once per process and key instead of
once per ticket or link (the ticket page's links, the API list's ticket URLs, the
notification list's forms)."""

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.translation import get_language

from portal.lib.memo import kept

# No ticket number, URL prefix or route holds it, and reversing leaves it unquoted.
PLACEHOLDER = "TKT-PLACEHOLDER-7f3a"
_around: dict[tuple, tuple[str, str]] = {}


def around_number(name: str) -> tuple[str, str]:
    """`reverse(name, args=[number])` as the text before and after the number, for numbers
    that reversing writes as they are (letters, digits, hyphens). Kept per URL name, URL
    conf, script prefix and language: derived from code and that key alone."""
    key = (name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())

    def split() -> tuple[str, str]:
        head, tail = reverse(name, args=[PLACEHOLDER]).split(PLACEHOLDER)
        return head, tail

    return kept(_around, key, split)


# An id no row reaches (the largest int of a serial column, less one).
ID_PLACEHOLDER = 2147483646
_around_id: dict[tuple, tuple[str, str]] = {}


def around_id(name: str) -> tuple[str, str]:
    """`reverse(name, args=[pk])` as the text before and after the integer `pk`, escaped as
    `{% url %}` escapes it, kept like `around_number`'s."""
    key = (name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())

    def split() -> tuple[str, str]:
        head, tail = reverse(name, args=[ID_PLACEHOLDER]).split(str(ID_PLACEHOLDER))
        return escape(head), escape(tail)

    return kept(_around_id, key, split)
