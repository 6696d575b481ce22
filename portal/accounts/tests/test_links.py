"""`{% load links %}`'s url and static write what Django's tags write, also after whatever
their key holds has changed."""

import pytest
from django.template import Context, engines
from django.test import override_settings
from django.urls import clear_script_prefix, set_script_prefix

TAGS = (
    "{% url 'dashboard' %}|{% url 'ticket-detail' 'TKT-000042' %}|{% url name %}|"
    "{% url 'settings' as there %}[{{ there }}]|{% url 'admin:index' %}|"
    "{% static 'css/portal.css' %}|{% static path %}|{% static 'js/portal.js' as js %}[{{ js }}]|"
    "{% autoescape off %}{% url 'ticket-list' %}{% static 'a b&c.css' %}{% endautoescape %}"
)
CONTEXT = {"name": "ticket-list", "path": "img/favicon.svg"}


def _both(context: dict | None = None) -> tuple[str, str]:
    engine = engines["django"].engine
    django = engine.from_string("{% load static %}" + TAGS)
    ours = engine.from_string("{% load links %}" + TAGS)
    context = {**CONTEXT, **(context or {})}
    return ours.render(Context(context)), django.render(Context(context))


def test_links_are_what_djangos_tags_write():
    ours, django = _both()
    assert ours == django
    assert "/dashboard|/tickets/TKT-000042|/tickets|[/settings]|" in ours
    assert _both() == (django, django)  # again, from the memo


def test_a_new_script_prefix_gives_new_links():
    before, _ = _both()
    set_script_prefix("/portal/")
    try:
        ours, django = _both()
    finally:
        clear_script_prefix()
    assert ours == django
    assert "/portal/dashboard" in ours and ours != before
    assert _both()[0] == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"STATIC_URL": "/assets/"},
        {"DEBUG": True},
        {"ROOT_URLCONF": "portal.tests_urls_with_prefix"},
    ],
)
def test_a_setting_that_changes_links_gives_new_links(overrides, settings, tmp_path):
    if "ROOT_URLCONF" in overrides:
        # A URL conf of another shape: the site under /inside/.
        module = tmp_path / "prefixed_urls.py"
        module.write_text(
            "from django.urls import include, path\n"
            "urlpatterns = [path('inside/', include('portal.urls'))]\n"
        )
        import sys

        sys.path.insert(0, str(tmp_path))
        overrides = {"ROOT_URLCONF": "prefixed_urls"}
    before, _ = _both()
    try:
        with override_settings(**overrides):
            ours, django = _both()
    finally:
        if "ROOT_URLCONF" in overrides:
            sys.path.remove(str(tmp_path))
    assert ours == django
    if "ROOT_URLCONF" in overrides:
        assert "/inside/dashboard" in ours and ours != before
    assert _both() == (before, before)
