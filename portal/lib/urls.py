"""A URL around one ticket number, reversed once per process and key instead of once per
ticket or link (the ticket page's links, the API list's ticket URLs)."""

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
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
