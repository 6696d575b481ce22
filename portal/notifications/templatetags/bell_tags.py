"""`{% bell %}`: the header's notification bell on every signed-in page, as
notifications/bell.html writes it (which the bell's own refresh still renders), without
the include: its template cost every page more than its cached count."""

from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe

from portal.accounts.templatetags.links import url_once

register = template.Library()

_ICON = (
    '<svg class="bell-icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" '
    'width="20" height="20"><path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 '
    "2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 "
    '2v1h18v-1l-2-2Z"/></svg>'
)


@register.simple_tag(takes_context=True)
def bell(context: template.Context) -> SafeString:
    """The bell with `unread` (the context processor's lazy count) as `{{ unread }}`
    writes it."""
    # A context without the count (no context processor) writes it as a missing variable.
    unread = context.get("unread", "")
    count = render_value_in_context(unread, context)
    badge = f'<span class="badge" data-testid="unread-count">{count}</span>' if unread else ""
    return mark_safe(  # noqa: S308 (the count rendered and escaped as {{ }} does)
        f'\n<a id="bell" class="bell" href="{url_once("notification-list")}"\n'
        f'   hx-get="{url_once("notification-bell")}" hx-trigger="every 30s, '
        'notifications-changed from:body" hx-swap="outerHTML"\n'
        f'   aria-label="Notifications: {count} unread">\n'
        f"  {_ICON}{badge}\n"
        "</a>\n"
    )
