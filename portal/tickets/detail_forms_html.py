"""The ticket page's forms written in Python: the side column of actions (watch, take,
status, assign, move team, edit, merge), the assign and move-team fields, the comment
form and the add-files form; byte for byte what tickets/_side.html and the forms'
templates wrote (tests: test_side_html, test_action_fields_html, test_comment_fields_html,
test_page_python_parts). The page's read-only parts are in detail_html.
"""

from collections.abc import Callable
from typing import Any

from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.lib.dates import ShortDates
from portal.lib.widget_html import flat_select_html
from portal.tickets.detail_html import csrf_input, esc, number_urls, when_html
from portal.tickets.services import BODY_MAX


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
                f'<option value="{esc(value)}">{esc(label)}</option>'
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
        f'    <label for="{field_id}">{esc(label)}</label>\n'
        f'    <input type="file" name="{name}" multiple data-attachments=""'
        f'{" required" if required else ""} aria-describedby="{field_id}_helptext" '
        f'id="{field_id}">\n  \n'
        f'  <p class="help" id="{field_id}_helptext">{esc(limits)}</p>\n  \n</div>\n'
    )


def comment_fields(*, idempotency_key: Any, limits: str) -> dict[str, str]:
    """The unbound comment form's fields as `field_html` (and the hidden key as the
    widget) write them: `forms.CommentForm` without building it (tests compare them)."""
    return {
        "idempotency_key": (
            f'<input type="hidden" name="idempotency_key" value="{esc(str(idempotency_key))}" '
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
        f'<script src="{escape(static("js/attachments.js"))}" nonce="{esc(nonce)}" '
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
        f"(until {when_html(reopens_until, dates)}) and tells the people working on it.</p>"
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
