"""The analytics page's period and filter fields, rendered once per master-data version.

Rendering the three option lists (groups, categories with their group, teams) through
Django's widget templates was most of a kept analytics page's time at 1M tickets (three
queries and ~7 ms of CPU of ~10; docs/benchmarks.md). Their HTML depends only on master
data (cached under the "masters" version, bumped by every change to it: catalog/
invalidation.py), on this code and template, and on the values submitted, which are part
of the key. Only canonical values are kept (each exactly as the form would write it), so
odd spellings of the same choice ("01") cannot fill the cache: they render in full.
"""

import functools
import hashlib

import django
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from portal.analytics.period import AnalyticsForm
from portal.catalog.invalidation import MASTERS
from portal.lib.cache_versions import cached

TEMPLATE = "analytics/_filter_fields.html"
SECONDS = 24 * 3600
# Bump when the fields render different HTML in a way the fingerprint cannot see.
RENDERER_VERSION = 1


def rendered(form: AnalyticsForm) -> SafeString | None:
    """The fields' HTML for a valid form, from the cache when it has it; None (let the
    page render them) for values not written the canonical way."""
    values = _canonical(form)
    if values is None:
        return None
    html = cached(MASTERS, ["analytics-fields", _fingerprint(), *values],
                  lambda: render_to_string(TEMPLATE, {"form": form}), timeout=SECONDS)  # fmt: skip
    return mark_safe(html)  # noqa: S308 - the template's own output, escaped when rendered


def _canonical(form: AnalyticsForm) -> tuple[str, ...] | None:
    values = []
    for name in form.fields:
        raw = form[name].value()
        clean = form.cleaned_data.get(name)
        if clean in (None, ""):
            text = ""
        elif hasattr(clean, "pk"):
            text = str(clean.pk)
        elif hasattr(clean, "isoformat"):
            text = clean.isoformat()
        else:
            text = str(clean)
        if ("" if raw is None else raw) != text:
            return None
        values.append(text)
    return tuple(values)


@functools.cache
def _fingerprint() -> str:
    """This code's and template's version: HTML made by another deploy is never served."""
    source = get_template(TEMPLATE).template.source  # type: ignore[attr-defined]
    fields = [(name, type(f).__name__, type(f.widget).__name__, str(f.label))
              for name, f in AnalyticsForm.base_fields.items()]  # fmt: skip
    described = repr((RENDERER_VERSION, django.VERSION, source, fields))
    return hashlib.sha256(described.encode()).hexdigest()[:16]
