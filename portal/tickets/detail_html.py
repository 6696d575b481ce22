"""The ticket page's read-only parts written in Python: its comments, their files and its
history lines, the facts list, related tickets and form answers, byte for byte what the
templates wrote. Its forms (actions, assign and move, comment, add files) are in
detail_forms_html, which shares the helpers here (`esc`, `when_html`, `csrf_input`,
`number_urls`).

Those loops were the page's largest rendering cost (a showcase ticket's 20 comments each
resolved a dozen variables, an include and a `{% url %}`). Every value goes through
`conditional_escape` as the template engine's `{{ }}` did; the Markdown bodies come in
already sanitised (`.body_html`, portal/lib/markdown.py). Dates are written once per row
by the view (`.created_iso`, `.created_label`); files' here, the same way.
"""

import re
from collections.abc import Callable, Iterable
from html import escape as escape_text
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from portal.lib.dates import ShortDates
from portal.lib.partials import EMPTY_PART
from portal.lib.urls import around_number
from portal.tickets import history

# An id no real row reaches, reversed in place of the row's own and then split around.
_PLACEHOLDER = "2147483646"


def url_for_pk(name: str, *args: Any) -> Callable[[int], str]:
    """`reverse(name, args=[*args, pk])` for many pks at the cost of one `reverse`: the URL
    is reversed once with a placeholder id and the pk written in its place (escaped as
    `{% url %}` escapes)."""
    head, tail = reverse(name, args=[*args, int(_PLACEHOLDER)]).split(_PLACEHOLDER)
    head, tail = escape(head), escape(tail)
    return lambda pk: f"{head}{int(pk)}{tail}"


def csrf_input(token: str) -> SafeString:
    """What `{% csrf_token %}` writes, for the one token of this response."""
    return mark_safe(  # noqa: S308 (the token is escaped)
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
    )


def esc(value: Any) -> str:
    """`{{ value }}`: plain text (a `str`, not a safe or lazy one) escaped by `html.escape`
    as `django.utils.html.escape` does, without `conditional_escape`'s checks."""
    if type(value) is str:
        return escape_text(value)
    return conditional_escape(value)


def attachments_html(files: list, dates: ShortDates, download: Callable[[int], str]) -> SafeString:
    """A list of files: raster images as thumbnails (hidden from keyboards and screen
    readers, as the name link beside them is the same file), everything else a download
    link. The text the include it replaces wrote, empty lines and all."""
    if not files:
        return EMPTY_PART
    parts = ['\n\n<ul class="attachments">\n  ']
    for file in files:
        url = download(file.pk)
        thumb = (
            f'<a href="{url}" class="attachment-thumb" tabindex="-1" aria-hidden="true">'
            f'<img src="{url}?inline=1" alt="" loading="lazy" width="96" height="96"></a>'
            if file.is_image
            else ""
        )
        local = timezone.localtime(file.created_at)
        parts.append(
            f'\n  <li class="attachment">\n    \n    \n    {thumb}\n'
            f'    <span class="attachment-info">\n'
            f'      <a href="{url}" download>{esc(file.original_name)}</a>\n'
            f'      <span class="muted">{esc(filesizeformat(file.size))} · {esc(file.media_type)}'
            f' · {esc(file.uploader)} · <time datetime="{esc(local.isoformat())}">'
            f"{esc(dates.label(local))}</time></span>\n"
            f"    </span>\n  </li>\n  "
        )
    parts.append("\n</ul>\n\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def comment_items(
    comments: list,
    *,
    article_url: Callable[[int], str] | None,
    csrf: SafeString,
    dates: ShortDates,
    download: Callable[[int], str],
) -> SafeString:
    """The comments list's items; `article_url` (None: not offered) is where the "make a
    help article" form of each comment posts, `download` where a file downloads."""
    if not comments:
        return mark_safe('\n          <li class="muted">No comments yet.</li>\n          ')
    parts = []
    for comment in comments:
        internal = comment.is_internal
        form = (
            f'<form method="post" action="{article_url(comment.pk)}" class="inline '
            f'comment-to-article">{csrf}<button type="submit" class="small">Make a help '
            f"article</button></form>"
            if article_url is not None
            else ""
        )
        parts.append(
            f'\n          <li class="comment card{" comment-internal" if internal else ""}"'
            f' id="comment-{int(comment.pk)}">\n'
            f'            <p class="comment-meta"><strong>{esc(comment.author)}</strong> '
            f'<time datetime="{esc(comment.created_iso)}">{esc(comment.created_label)}</time>'
            f"{' <span class="tag">Internal</span>' if internal else ''}</p>\n"
            f'            <div class="markdown" hx-disable>{esc(comment.body_html)}</div>\n'
            f"            {attachments_html(comment.files, dates, download)}\n"
            f"            {form}\n"
            f"          </li>\n          "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def history_items(events: Iterable) -> SafeString:
    """The history's lines: when, who ("System" for no one), what and why."""
    parts = []
    for event in events:
        reason = (
            f'<span class="muted" hx-disable>— {esc(event.reason)}</span>' if event.reason else ""
        )
        parts.append(
            f"\n          <li>\n"
            f'            <time datetime="{esc(event.created_iso)}">'
            f"{esc(event.created_label)}</time>\n"
            f"            <span>{esc(event.actor or 'System')}</span>\n"
            f"            {esc(history.sentence(event))}\n"
            f"            {reason}\n"
            f"          </li>\n          "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def when_html(value: Any, dates: ShortDates) -> str:
    """`value|date:"j M Y H:i"` (in the current time zone), escaped."""
    return esc(dates.label(timezone.localtime(value)))


def facts_html(ticket: Any, *, waiting_for: str | None, sla_views: list, dates: ShortDates) -> str:
    """The facts list's items (status to closing time, with each SLA target's due time
    and state): two dozen variables, seven dates and an inclusion tag in the template,
    the page's costliest block after the forms (profile)."""
    subcategory = f" / {esc(ticket.subcategory)}" if ticket.subcategory else ""
    if ticket.assignee:
        assignee = esc(ticket.assignee)
    elif waiting_for:
        assignee = f"Nobody yet: waiting for {esc(waiting_for)}"
    else:
        assignee = "Nobody yet"
    parts = [
        f"<dt>Status</dt><dd>{esc(ticket.get_status_display())}</dd>\n"
        f"      <dt>Priority</dt><dd>{esc(ticket.get_priority_display())}</dd>\n"
        f"      <dt>Requester</dt><dd>{esc(ticket.requester)}</dd>\n"
        f"      <dt>Classification</dt><dd>{esc(ticket.group)} / {esc(ticket.category)}"
        f"{subcategory}</dd>\n"
        f"      <dt>Team</dt><dd>{esc(ticket.team or 'Unassigned')}</dd>\n"
        f"      <dt>Assignee</dt><dd>{assignee}</dd>\n"
        f"      <dt>Raised</dt><dd>{when_html(ticket.created_at, dates)}</dd>\n      ",
        _sla_html(ticket, sla_views, dates),
        "\n      ",
    ]
    for label, value in (
        ("First response", ticket.first_response_at),
        ("Resolved", ticket.resolved_at),
        ("Closed", ticket.closed_at),
    ):
        if value:
            parts.append(f"<dt>{label}</dt><dd>{when_html(value, dates)}</dd>")
        parts.append("\n      " if label != "Closed" else "")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _sla_html(ticket: Any, views: list, dates: ShortDates) -> str:
    """Each SLA target's due time and state (what the `sla_facts` tag wrote)."""
    if not views:
        return '\n\n<dt>Service level</dt><dd class="muted">No SLA applies</dd>\n\n\n'
    parts = ["\n"]
    for view in views:
        if view.due_at:
            local = timezone.localtime(view.due_at)
            lead = f'<time datetime="{esc(local.isoformat())}">{esc(dates.label(local))}</time> '
        elif view.state == "at_risk":
            lead = "Paused "
        elif view.state != "paused":
            lead = "– "
        else:
            lead = ""
        parts.append(
            f"\n<dt>{esc(view.target.label)} due</dt>\n"
            f'<dd data-sla-target="{esc(view.target.key)}">{lead}'
            f'<span class="sla sla-{esc(view.state)}">{esc(view.label)}</span></dd>\n'
        )
    parts.append(f"\n<dt>SLA policy</dt><dd>{esc(ticket.sla_policy_name)}</dd>\n")
    return "".join(parts)


# What `quote` and `escape` leave as they are: a ticket number written in a URL is itself.
_PLAIN_NUMBER = re.compile(r"[A-Za-z0-9-]+")


def number_urls(number: str) -> Callable[[str], str]:
    """`{% url name number %}` for the ticket `number` and any name, each name's URL
    reversed once per process and key (`lib.urls.around_number`); a number that quoting
    or escaping would change is reversed as Django does, every time."""
    if not _PLAIN_NUMBER.fullmatch(number):
        return lambda name: escape(reverse(name, args=[number]))

    def url(name: str) -> str:
        head, tail = around_number(name)
        return f"{escape(head)}{number}{escape(tail)}"

    return url


def family_html(
    family: dict[str, Any], *, number: str, parent_id: int | None, csrf: SafeString
) -> SafeString | None:
    """tickets/_family.html for a ticket with no related tickets the viewer may see (most):
    nothing, or the form that sets a parent for people working it. None when there are
    some: the template writes those."""
    if family["parent"] or family["children"] or family["merged_here"]:
        return None
    if not family["can_set_parent"]:
        return EMPTY_PART
    has_parent = parent_id is not None
    remove = (
        '<button type="submit" name="remove" value="1" class="link-button">Remove the '
        "parent</button>"
        if has_parent
        else ""
    )
    return mark_safe(  # noqa: S308 (the URL is escaped by number_urls, the rest fixed)
        "\n\n"
        '<section class="card" id="family" aria-labelledby="family-heading">\n'
        '  <h2 id="family-heading">Related tickets</h2>\n'
        "  \n  \n  \n  \n"
        '  <details class="parent-form"><summary>'
        f"{'Change the parent ticket' if has_parent else 'Make it a child of another ticket'}"
        "</summary>\n"
        f'  <form method="post" action="{number_urls(number)("ticket-parent")}" '
        'class="action-form">\n'
        f"    {csrf}\n"
        '    <label for="parent-number">Parent ticket</label>\n'
        '    <input id="parent-number" name="parent" maxlength="40" placeholder="TKT-000123" '
        'value="" aria-describedby="parent-help">\n'
        '    <button type="submit">Set parent</button>\n'
        f"    {remove}\n"
        '    <p class="help" id="parent-help">A ticket you work. The parent cannot be resolved '
        "while its children are open, unless whoever resolves it says so.</p>\n"
        "  </form>\n"
        "  </details>\n"
        "  \n"
        "</section>\n"
        "\n"
    )


def answers_html(answers: list) -> SafeString:
    """tickets/_form_answers.html: the request form's answers (a retired field's too)."""
    if not answers:
        return EMPTY_PART
    parts = [
        '\n\n<section class="card" aria-labelledby="answers-heading">\n'
        '  <h2 id="answers-heading">Request details</h2>\n'
        '  <dl class="facts">\n    '
    ]
    for answer in answers:
        retired = ' <span class="tag">no longer asked</span>' if answer.retired else ""
        parts.append(
            f"\n    <dt>{esc(answer.label)}{retired}</dt>\n"
            f"    <dd hx-disable>{esc(answer.text)}</dd>\n    "
        )
    parts.append("\n  </dl>\n</section>\n\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


# What tickets/_conflict.html (without an error) and tickets/_merged_into.html (for a
# ticket not merged) write: the text around their conditions.
NO_NOTICE = EMPTY_PART


def assets_html(nonce: str) -> SafeString:
    """tickets/_assets.html: the tickets stylesheets and script."""
    return mark_safe(  # noqa: S308 (every value escaped)
        f'\n<link rel="stylesheet" href="{escape(static("css/tickets.css"))}">\n'
        f'<link rel="stylesheet" href="{escape(static("css/sla.css"))}">\n'
        f'<script src="{escape(static("js/tickets.js"))}" nonce="{esc(nonce)}" defer></script>\n'
    )
