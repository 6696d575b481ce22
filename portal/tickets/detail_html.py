"""The ticket page's repeated parts written in Python: its comments, their files and its
history lines, byte for byte what the template loops wrote.

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
from portal.lib.widget_html import flat_select_html
from portal.tickets import history
from portal.tickets.services import BODY_MAX

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


def _e(value: Any) -> str:
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
            f'      <a href="{url}" download>{_e(file.original_name)}</a>\n'
            f'      <span class="muted">{_e(filesizeformat(file.size))} · {_e(file.media_type)}'
            f' · {_e(file.uploader)} · <time datetime="{_e(local.isoformat())}">'
            f"{_e(dates.label(local))}</time></span>\n"
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
            f'            <p class="comment-meta"><strong>{_e(comment.author)}</strong> '
            f'<time datetime="{_e(comment.created_iso)}">{_e(comment.created_label)}</time>'
            f"{' <span class="tag">Internal</span>' if internal else ''}</p>\n"
            f'            <div class="markdown" hx-disable>{_e(comment.body_html)}</div>\n'
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
            f'<span class="muted" hx-disable>— {_e(event.reason)}</span>' if event.reason else ""
        )
        parts.append(
            f"\n          <li>\n"
            f'            <time datetime="{_e(event.created_iso)}">'
            f"{_e(event.created_label)}</time>\n"
            f"            <span>{_e(event.actor or 'System')}</span>\n"
            f"            {_e(history.sentence(event))}\n"
            f"            {reason}\n"
            f"          </li>\n          "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _when(value: Any, dates: ShortDates) -> str:
    """`value|date:"j M Y H:i"` (in the current time zone), escaped."""
    return _e(dates.label(timezone.localtime(value)))


def facts_html(ticket: Any, *, waiting_for: str | None, sla_views: list, dates: ShortDates) -> str:
    """The facts list's items (status to closing time, with each SLA target's due time
    and state): two dozen variables, seven dates and an inclusion tag in the template,
    the page's costliest block after the forms (profile)."""
    subcategory = f" / {_e(ticket.subcategory)}" if ticket.subcategory else ""
    if ticket.assignee:
        assignee = _e(ticket.assignee)
    elif waiting_for:
        assignee = f"Nobody yet: waiting for {_e(waiting_for)}"
    else:
        assignee = "Nobody yet"
    parts = [
        f"<dt>Status</dt><dd>{_e(ticket.get_status_display())}</dd>\n"
        f"      <dt>Priority</dt><dd>{_e(ticket.get_priority_display())}</dd>\n"
        f"      <dt>Requester</dt><dd>{_e(ticket.requester)}</dd>\n"
        f"      <dt>Classification</dt><dd>{_e(ticket.group)} / {_e(ticket.category)}"
        f"{subcategory}</dd>\n"
        f"      <dt>Team</dt><dd>{_e(ticket.team or 'Unassigned')}</dd>\n"
        f"      <dt>Assignee</dt><dd>{assignee}</dd>\n"
        f"      <dt>Raised</dt><dd>{_when(ticket.created_at, dates)}</dd>\n      ",
        _sla_html(ticket, sla_views, dates),
        "\n      ",
    ]
    for label, value in (
        ("First response", ticket.first_response_at),
        ("Resolved", ticket.resolved_at),
        ("Closed", ticket.closed_at),
    ):
        if value:
            parts.append(f"<dt>{label}</dt><dd>{_when(value, dates)}</dd>")
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
            lead = f'<time datetime="{_e(local.isoformat())}">{_e(dates.label(local))}</time> '
        elif view.state == "at_risk":
            lead = "Paused "
        elif view.state != "paused":
            lead = "– "
        else:
            lead = ""
        parts.append(
            f"\n<dt>{_e(view.target.label)} due</dt>\n"
            f'<dd data-sla-target="{_e(view.target.key)}">{lead}'
            f'<span class="sla sla-{_e(view.state)}">{_e(view.label)}</span></dd>\n'
        )
    parts.append(f"\n<dt>SLA policy</dt><dd>{_e(ticket.sla_policy_name)}</dd>\n")
    return "".join(parts)


def assign_fields(
    *, version: int, assignee_id: int | None, members: list[tuple[int, str]]
) -> SafeString:
    """The assign form's fields, unbound (`forms.AssignForm` as the page showed it: the
    ticket's version, the team's members with the assignee selected, an empty reason).
    Building the Django form and its fields for this cost more than the rest of the
    aside; a refused post shows its bound form through the template as before."""
    chosen = "" if assignee_id is None else str(assignee_id)
    select = flat_select_html(
        "assignee", {"id": "id_assign_assignee"}, [("", "Nobody"), *members], [chosen]
    )
    return mark_safe(  # noqa: S308 (every value escaped by flat_select_html and int())
        f'<input type="hidden" name="version" value="{int(version)}" id="id_assign_version">\n'
        '          <label for="id_assign_assignee">Assign to</label>\n'
        f"          {select}\n"
        '          <label for="id_assign_reason">Reason (optional)</label>\n'
        '          <input type="text" name="reason" maxlength="1000" id="id_assign_reason">'
    )


def move_fields(*, version: int, teams: list[tuple[int, str]]) -> SafeString:
    """The move-team form's fields, unbound (`forms.MoveTeamForm`: the ticket's version,
    the teams to choose from, an empty reason); see `assign_fields`."""
    select = flat_select_html(
        "team", {"required": True, "id": "id_team"}, [("", "Choose a team"), *teams], [""]
    )
    return mark_safe(  # noqa: S308 (every value escaped by flat_select_html and int())
        f'<input type="hidden" name="version" value="{int(version)}" id="id_version">\n'
        '          <label for="id_team">Move to team</label>\n'
        f"          {select}\n"
        '          <label for="id_reason">Why</label>\n'
        '          <input type="text" name="reason" maxlength="1000" required id="id_reason">'
    )


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


_WATCH_HELP = {
    (True, False): "You are watching this ticket: you are told about status changes and "
    "public comments.",
    (True, True): "You are watching this ticket: you are told about status changes and "
    "public comments. You see it because you watch it: stopping hides it from you.",
}
_UNWATCHED_HELP = "Watch this ticket to be told about status changes and public comments."
_REQUESTER_NOTE = (
    "The people working on the ticket see your note, in the history and in their email."
)
_WORKER_NOTE = (
    "Not internal: the requester and watchers see this note in the history and in their "
    "email. Use an internal comment for anything else."
)


def side_html(
    *,
    number: str,
    version: int,
    csrf: SafeString,
    watching: bool,
    watcher_only: bool,
    can_take: bool,
    status_targets: list[tuple[str, Any]],
    open_children: int,
    requester_only: bool,
    assign_fields: SafeString | None,
    move_fields: SafeString | None,
    can_edit: bool,
    can_merge: bool,
) -> SafeString:
    """The page's side, watch form and actions, as tickets/_side.html writes it for a page
    with no refused action (`assign_fields`, `move_fields`: the unbound forms' fields, None
    when not offered). Eight `{% url %}` tags, a dozen conditions and five CSRF tokens in
    the template."""
    url = number_urls(number)
    help_text = _WATCH_HELP[(True, watcher_only)] if watching else _UNWATCHED_HELP
    parts = [
        f'<aside class="ticket-side" id="ticket-side" aria-label="Watch and actions">\n'
        f'      <form method="post" action="{url("ticket-watch")}" class="card watch">\n'
        f"        {csrf}\n"
        f'        <input type="hidden" name="watch" value="{"0" if watching else "1"}">\n'
        f'        <p class="help">{help_text}</p>\n'
        f'        <button type="submit">{"Stop watching" if watching else "Watch"}</button>\n'
        f"      </form>\n\n      "
    ]
    offered = (can_take, status_targets, assign_fields is not None, move_fields is not None)
    if any(offered) or can_edit:
        version_input = f'{csrf}<input type="hidden" name="version" value="{int(version)}">'
        parts.append(
            '\n      <div class="card ticket-actions">\n        <h2>Actions</h2>\n        '
        )
        if can_take:
            parts.append(
                f'\n        <form method="post" action="{url("ticket-take")}">\n'
                f"          {version_input}\n"
                '          <button type="submit" class="primary">Take it</button>\n'
                "        </form>\n        "
            )
        parts.append("\n        ")
        if status_targets:
            options = "".join(
                f'<option value="{_e(value)}">{_e(label)}</option>'
                for value, label in status_targets
            )
            children = (
                '<label class="checkbox"><input type="checkbox" name="with_open_children" '
                f'value="1"> Even though child tickets are open ({int(open_children)})</label>'
                if open_children
                else ""
            )
            parts.append(
                f'\n        <form method="post" action="{url("ticket-status")}" '
                'class="action-form">\n'
                f"          {version_input}\n"
                '          <label for="status-select">Change status</label>\n'
                "          \n"
                '          <select id="status-select" name="status" required><option value="" '
                f"selected disabled>Choose…</option>{options}</select>\n"
                '          <label for="status-reason">Note (optional)</label>\n'
                '          <input id="status-reason" name="reason" maxlength="1000" '
                'aria-describedby="status-reason-help">\n'
                f"          {children}\n"
                '          <p class="help" id="status-reason-help">'
                f"{_REQUESTER_NOTE if requester_only else _WORKER_NOTE}</p>\n"
                '          <button type="submit">Update status</button>\n'
                "        </form>\n        "
            )
        parts.append("\n        ")
        for fields, name, button in (
            (assign_fields, "ticket-assign", "Assign"),
            (move_fields, "ticket-move-team", "Move"),
        ):
            if fields is not None:
                parts.append(
                    f'\n        <form method="post" action="{url(name)}" class="action-form">\n'
                    f"          {csrf}{fields}\n"
                    f'          <button type="submit">{button}</button>\n'
                    "        </form>\n        "
                )
            parts.append("\n        ")
        if can_edit:
            parts.append(f'<p><a class="button" href="{url("ticket-edit")}">Edit details</a></p>')
        parts.append("\n        ")
        if can_merge:
            parts.append(_merge_form(url, csrf))
        parts.append("\n      </div>\n      ")
    parts.append("\n    </aside>\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _merge_form(url: Callable[[str], str], csrf: SafeString) -> str:
    """tickets/_merge_form.html, closed."""
    return (
        '\n<details class="card merge" id="merge">\n'
        "  <summary>Merge into another ticket</summary>\n"
        f'  <form method="post" action="{url("ticket-merge")}" class="action-form">\n'
        f"    {csrf}\n"
        '    <label for="merge-q">Ticket number or words</label>\n'
        '    <input type="search" id="merge-q" name="q" autocomplete="off" maxlength="100" '
        'aria-controls="merge-results" aria-describedby="merge-help"\n'
        f'           hx-get="{url("ticket-merge-targets")}" hx-trigger="focus once, input '
        'changed delay:250ms, search"\n'
        '           hx-target="#merge-results">\n'
        '    <p class="help" id="merge-help">Lists open tickets you work. This one is closed '
        "and its comments, files and watchers move there; you confirm on the next page.</p>\n"
        '    <div id="merge-results" aria-live="polite"></div>\n'
        '    <button type="submit">Merge…</button>\n'
        "  </form>\n"
        "</details>\n"
    )


def files_field(name: str, label: str, *, required: bool, limits: str) -> str:
    """What `field_html` writes for an unbound `AttachmentsField` called `name` (the
    comment form's "files", the add-files form's "add-files"), `limits` its help text."""
    field_id = f"id_{name}"
    return (
        '\n<div class="field">\n  \n'
        f'    <label for="{field_id}">{_e(label)}</label>\n'
        f'    <input type="file" name="{name}" multiple data-attachments=""'
        f'{" required" if required else ""} aria-describedby="{field_id}_helptext" '
        f'id="{field_id}">\n  \n'
        f'  <p class="help" id="{field_id}_helptext">{_e(limits)}</p>\n  \n</div>\n'
    )


def comment_fields(*, idempotency_key: Any, limits: str) -> dict[str, str]:
    """The unbound comment form's fields as `field_html` (and the hidden key as the
    widget) write them: `forms.CommentForm` without building it (tests compare them)."""
    return {
        "idempotency_key": (
            f'<input type="hidden" name="idempotency_key" value="{_e(str(idempotency_key))}" '
            'id="id_idempotency_key">'
        ),
        "body": (
            '\n<div class="field">\n  \n    <label for="id_body">Comment</label>\n'
            f'    <textarea name="body" cols="40" rows="4" maxlength="{int(BODY_MAX)}" required '
            'id="id_body">\n</textarea>\n  \n  \n  \n</div>\n'
        ),
        "internal": (
            '\n<div class="field">\n  \n    <label class="checkbox"><input type="checkbox" '
            'name="internal" id="id_internal"> Internal (only people working the ticket see '
            "it)</label>\n  \n  \n  \n</div>\n"
        ),
        "files": files_field("files", "Files", required=False, limits=limits),
    }


def _file_fields(files: str, *, assets: str) -> str:
    """tickets/_file_fields.html for an unbound form (no refused files to leave out), with
    the form's file field written (`files`); `assets` the stylesheet and script its first
    picker on a page loads, else ""."""
    return (
        f"\n{assets}\n"
        '<div class="dropzone" data-dropzone>\n'
        f"  {files}\n"
        '  <ul class="picked-files" data-picked-files aria-live="polite"></ul>\n'
        '  <progress class="upload-progress" max="100" value="0" hidden '
        "data-upload-progress></progress>\n"
        '  <p class="help" data-upload-status aria-live="polite"></p>\n'
        "</div>\n\n"
    )


def add_files_html(
    *, limits: str, url: Callable[[str], str], csrf: SafeString, nonce: str
) -> SafeString:
    """The description's "Add files without a comment" form, unbound, as tickets/detail.html
    writes it (with the attachments' stylesheet and script: the page's first picker)."""
    assets = (
        f'\n<link rel="stylesheet" href="{escape(static("css/attachments.css"))}">\n'
        f'<script src="{escape(static("js/attachments.js"))}" nonce="{_e(nonce)}" '
        "defer></script>"
    )
    add_files = files_field("add-files", "Add files", required=True, limits=limits)
    return mark_safe(  # noqa: S308 (every value escaped here and by files_field)
        '<details class="add-files">\n'
        "          <summary>Add files without a comment</summary>\n"
        f'          <form method="post" action="{url("ticket-files")}" '
        'enctype="multipart/form-data" data-once data-upload>\n'
        f"            {csrf}\n"
        f"            {_file_fields(add_files, assets=assets)}\n"
        '            <button type="submit">Upload</button>\n'
        "          </form>\n"
        "        </details>"
    )


def _pickers(url: Callable[[str], str], token: str) -> str:
    """replies/_picker.html and tickets/_article_picker.html, for people working it."""
    token = escape(token)
    return (
        "\n"
        f'<details class="canned-replies" id="canned-replies" hx-headers=\'{{"X-CSRFToken": '
        f'"{token}"}}\'>\n'
        "  <summary>Insert a canned reply</summary>\n"
        '  <div class="field">\n'
        '    <label for="canned-q">Search canned replies</label>\n'
        '    <input type="search" id="canned-q" name="q" autocomplete="off" maxlength="100" '
        'aria-controls="canned-results"\n'
        f'           hx-get="{url("reply-picker")}" hx-trigger="focus once, input changed '
        'delay:250ms, search"\n'
        '           hx-target="#canned-results">\n'
        "  </div>\n"
        '  <div id="canned-results"></div>\n'
        f'  <p class="help"><a href="{escape(reverse("reply-list"))}">Manage canned '
        "replies</a></p>\n"
        '  <p id="canned-status" role="status" class="visually-hidden"></p>\n'
        "</details>\n"
        "\n"
        '<details class="canned-replies article-picker" id="article-picker" '
        f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'>\n'
        "  <summary>Link a help article</summary>\n"
        '  <div class="field">\n'
        '    <label for="article-q">Search help articles the requester can read</label>\n'
        '    <input type="search" id="article-q" name="q" autocomplete="off" maxlength="100" '
        'aria-controls="article-results"\n'
        f'           hx-get="{url("ticket-article-picker")}" hx-trigger="focus once, input '
        'changed delay:250ms, search"\n'
        '           hx-target="#article-results">\n'
        "  </div>\n"
        '  <div id="article-results"></div>\n'
        '  <p id="article-status" role="status" class="visually-hidden"></p>\n'
        "</details>\n"
    )


def comment_form_html(
    *,
    idempotency_key: Any,
    limits: str,
    url: Callable[[str], str],
    token: str,
    is_worker: bool,
    reopens_until: Any,
    dates: ShortDates,
) -> SafeString:
    """The comment form, unbound, with the pickers above it for people working the ticket:
    what tickets/detail.html writes when it offers no follow-up instead."""
    reopens = (
        '<p class="help" id="comment-reopens">This ticket is closed. A comment reopens it '
        f"(until {_when(reopens_until, dates)}) and tells the people working on it.</p>"
        if reopens_until
        else ""
    )
    fields = comment_fields(idempotency_key=idempotency_key, limits=limits)
    internal = fields["internal"] if is_worker else ""
    return mark_safe(  # noqa: S308 (every value escaped here and by comment_fields)
        f"\n        {_pickers(url, token) if is_worker else ''}\n"
        f'        <form method="post" action="{url("ticket-comment")}" class="card" '
        'enctype="multipart/form-data" data-once data-upload>\n'
        f"          {csrf_input(token)}{fields['idempotency_key']}\n"
        f"          {reopens}\n"
        f"          {fields['body']}\n"
        f"          {internal}\n"
        f"          {_file_fields(fields['files'], assets='')}\n"
        '          <button type="submit" class="primary">Add comment</button>\n'
        "        </form>"
    )


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
            f"\n    <dt>{_e(answer.label)}{retired}</dt>\n"
            f"    <dd hx-disable>{_e(answer.text)}</dd>\n    "
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
        f'<script src="{escape(static("js/tickets.js"))}" nonce="{_e(nonce)}" defer></script>\n'
    )
