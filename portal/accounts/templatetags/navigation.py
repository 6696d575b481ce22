"""{% main_nav %}: base.html's main navigation, rendered once per process for each key.

Every signed-in page drew the same dozen links: a `{% url %}` each, four includes and their
conditions, a large share of what a page costs before its own content. What they show
depends only on the values in `_key`, so the HTML is kept per key; the first page with a
new key renders includes/main_nav.html as before, with the page's own context.
"""

from django import template
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

MAIN_NAV = "includes/main_nav.html"
# Keys are few (URL names x roles x a waiting-approvals count); the bound only guards memory.
MAX_KEYS = 2048
_rendered: dict[tuple, SafeString] = {}


def _key(context: template.Context, nav: template.Template) -> tuple:
    """Everything includes/main_nav.html (and what it includes) reads: change one, change this.

    The template object itself is in the key so that a template reloaded in development
    (a new object) is rendered afresh; reversed URLs depend on the URL conf and prefix.
    """
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    roles = context.get("roles")
    pending = context.get("pending_approvals")
    return (
        nav,
        get_language(),  # its labels, once they are translated
        get_urlconf(),
        get_script_prefix(),
        getattr(match, "url_name", None),
        getattr(match, "route", None),
        bool(getattr(roles, "is_admin", False)),
        bool(getattr(roles, "works_tickets", False)),
        bool(pending),
        str(pending) if pending else "",
    )


@register.simple_tag(takes_context=True)
def main_nav(context: template.Context) -> SafeString:
    page = context.template  # the page being rendered: its engine finds the fragment
    engine = page.engine if page is not None else template.Engine.get_default()
    nav = engine.get_template(MAIN_NAV)
    key = _key(context, nav)
    html = _rendered.get(key)
    if html is None:
        html = SafeString(nav.render(context))
        if len(_rendered) >= MAX_KEYS:
            _rendered.clear()
        _rendered[key] = html
    return html
