"""`{% url %}` and `{% static %}` as Django writes them, each link worked out once per process.

Every signed-in page wrote the same links on every request: base.html's chrome (the
dashboard, settings and sign-out, the bell's two, four static files) and a ticket list
eight more, each reversed through the URL resolver or looked up in the static files'
manifest again: a third of a list page's template rendering in the profile
(docs/benchmarks.md, issue 26). A link with no arguments depends only on what its key
holds, so a template that loads this library after Django's gets these tags in their
place; anything else (arguments, `as`, a namespaced name, whose instance depends on the
page) is Django's tag as it is.
"""

from django import template
from django.apps import apps
from django.conf import settings
from django.template import defaulttags
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from portal.lib.memo import kept

register = template.Library()

_urls: dict[tuple, str] = {}
_static: dict[tuple, str] = {}


class _OnceURLNode(defaulttags.URLNode):
    def render(self, context: template.Context) -> str:
        if self.args or self.kwargs or self.asvar:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        if not isinstance(view_name, str) or ":" in view_name:
            return super().render(context)
        key = (
            view_name,
            get_urlconf() or settings.ROOT_URLCONF,  # a request's own URL conf, else the site's
            get_script_prefix(),
            get_language(),  # translated routes, were there any
            bool(context.autoescape),
        )
        return kept(_urls, key, lambda: super(_OnceURLNode, self).render(context))


@register.tag
def url(parser, token) -> template.Node:
    """Django's `{% url %}`; with no arguments, reversed once per key."""
    node = defaulttags.url(parser, token)
    return _OnceURLNode(node.view_name, node.args, node.kwargs, node.asvar)


class _OnceStaticNode(StaticNode):
    @classmethod
    def handle_simple(cls, path: str) -> str:
        if not apps.is_installed("django.contrib.staticfiles"):
            return super().handle_simple(path)
        from django.contrib.staticfiles.storage import staticfiles_storage

        # The configured storage (a new object when the setting is replaced): its manifest's
        # hashed names are read once per storage, and DEBUG serves unhashed ones.
        storage = staticfiles_storage.url.__self__  # type: ignore[attr-defined]
        key = (path, storage, settings.DEBUG, settings.STATIC_URL)
        return kept(_static, key, lambda: storage.url(path))


@register.tag
def static(parser, token) -> template.Node:
    """Django's `{% static %}`, each path's URL looked up once per storage."""
    return _OnceStaticNode.handle_token(parser, token)
