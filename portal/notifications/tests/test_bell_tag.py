"""`{% bell %}` writes what notifications/bell.html writes (which the bell's refresh still
renders), byte for byte: no count in the context, none, some, a lazy one, a thousand with
separators, under a script prefix."""

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import clear_script_prefix, set_script_prefix
from django.utils.functional import SimpleLazyObject

INCLUDE = Template('{% include "notifications/bell.html" %}')
TAG = Template("{% load bell_tags %}{% bell %}")


@pytest.mark.parametrize(
    "context",
    [{}, {"unread": 0}, {"unread": 3}, {"unread": SimpleLazyObject(lambda: 5)}, {"unread": 1234}],
)
@pytest.mark.parametrize("separators", [False, True])
def test_the_bell_is_what_its_template_wrote(context, separators):
    with override_settings(USE_THOUSAND_SEPARATOR=separators):
        assert TAG.render(Context(context)) == INCLUDE.render(Context(context))


def test_the_bell_follows_the_script_prefix():
    set_script_prefix("/portal/")
    try:
        written = TAG.render(Context({"unread": 2}))
        assert written == INCLUDE.render(Context({"unread": 2}))
        assert 'href="/portal/' in written
    finally:
        clear_script_prefix()
