"""The bell, the notification list, email preferences, and the admins' delivery log."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.accounts.types import AuthenticatedRequest
from portal.lib import keyset
from portal.lib.emails import render_email
from portal.lib.htmx import is_htmx
from portal.lib.http import posted_data
from portal.notifications import list_html, notice_services, services
from portal.notifications.kinds import all_kinds, get_kind
from portal.notifications.models import (
    EmailDelivery,
    EmailPreference,
    Notification,
    PendingNotice,
)
from portal.notifications.selectors import unread_count

PER_PAGE = 30
# The list's order (the model's default ordering) and the same walked backwards.
NEWEST_FIRST = keyset.Sort("Newest first", (("created_at", True), ("id", True)))
OLDEST_FIRST = keyset.Sort("Oldest first", (("created_at", False), ("id", False)))
DELIVERIES = "Only admins can see email deliveries."
DELIVERY_STATUS_FILTERS = {choice.value for choice in EmailDelivery.Status}
# Notices shown above the email log: those kept as failed, then those waiting to be tried
# again. More than this many is an outage that /healthz and the alert already report.
TROUBLED_NOTICES = 50


@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    """Newest first, a page at a time by (created_at, id): never a COUNT of someone's
    notifications (121,899 for the 1M benchmark's SPOC), whatever page is shown."""
    only_unread = request.GET.get("show") == "unread"
    notifications = Notification.objects.filter(recipient=request.user)
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    error, status = "", 200
    try:
        rows, newer, older = _window(
            notifications, older=request.GET.get("after"), newer=request.GET.get("before")
        )
    except keyset.BadCursor as bad:
        rows, newer, older, error, status = [], None, None, str(bad), 400
    show = [("show", "unread")] if only_unread else []
    return render(
        request,
        "notifications/list.html",
        {
            "rows": list_html.rows_html(rows, csrf_token=get_token(request)),
            "only_unread": only_unread,
            "unread": unread_count(request.user),
            "error": error,
            "first_query": urlencode(show),
            "is_paged": bool(request.GET.get("after") or request.GET.get("before")),
            "newer_query": urlencode([*show, ("before", newer)]) if newer else "",
            "older_query": urlencode([*show, ("after", older)]) if older else "",
        },
        status=status,
    )


def _window(notifications, *, older: str | None, newer: str | None):
    """(rows newest first, cursor for the newer page, cursor for the older page) in one query.

    `older` (the `after` parameter) walks on from a row towards older ones; `newer` (the
    `before` parameter) walks back from a row by reading the same index the other way and
    reversing the few rows. Each page has a row beyond it on the side it came from, so that
    link needs no query; the other side is known by fetching one row more than a page.
    """
    if newer and not older:
        rows, newer_cursor = keyset.page(notifications, OLDEST_FIRST, newer, PER_PAGE)
        rows.reverse()
        return rows, newer_cursor, _cursor(rows[-1]) if rows else None
    rows, older_cursor = keyset.page(notifications, NEWEST_FIRST, older, PER_PAGE)
    return rows, _cursor(rows[0]) if rows and older else None, older_cursor


def _cursor(notification: Notification) -> str:
    return keyset.cursor_for(notification, NEWEST_FIRST)


@require_GET
def bell(request: AuthenticatedRequest) -> HttpResponse:
    """The header's unread badge; htmx polls it so it stays current without a reload."""
    return render(request, "notifications/bell.html", {"unread": unread_count(request.user)})


@require_POST
def mark_read(request: AuthenticatedRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=notification_id, recipient=request.user)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    if request.POST.get("open") and notification.link.startswith("/"):
        return redirect(notification.link)
    if is_htmx(request):
        return render(request, "notifications/bell.html", {"unread": unread_count(request.user)})
    return redirect("notification-list")


@require_POST
def mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notification-list")


class PreferencesForm(forms.Form):
    """One checkbox per kind a user may mute."""

    def __init__(self, *args, current: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in all_kinds():
            if kind.user_can_mute_email:
                self.fields[kind.name] = forms.BooleanField(
                    label=kind.label,
                    required=False,
                    initial=current.get(kind.name, kind.email_by_default),
                )


@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    current = dict(EmailPreference.objects.filter(user=request.user).values_list("kind", "email"))
    form = PreferencesForm(posted_data(request), current=current)
    if request.method == "POST" and form.is_valid():
        services.email_preferences_set(user=request.user, choices=form.cleaned_data)
        messages.success(request, "Your email preferences have been saved.")
        return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"form": form})


@admin_required(reason=DELIVERIES)
@require_GET
def delivery_log(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    deliveries = EmailDelivery.objects.only(
        "id",
        "to_address",
        "kind",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "next_attempt_at",
    )
    if status in DELIVERY_STATUS_FILTERS:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    notices = _troubled_notices()
    return render(
        request,
        "notifications/delivery_log.html",
        {
            "page": page,
            "status": status,
            "statuses": EmailDelivery.Status.choices,
            "notices": notices,
            # Failed ones come first: the list shows whether there are any.
            "failed_notices": bool(notices) and notices[0]["notice"].failed_at is not None,
        },
    )


def _troubled_notices() -> list[dict]:
    """The events whose notifications are not delivered although they were tried: kept as
    failed (oldest first), then waiting for another attempt. One query, bounded."""
    rows = (
        PendingNotice.objects.filter(attempts__gt=0)
        .order_by(F("failed_at").asc(nulls_last=True), "created_at", "pk")
        .only("id", "messages", "created_at", "attempts", "last_error", "retry_at", "failed_at")[
            :TROUBLED_NOTICES
        ]
    )
    return [
        {
            "notice": notice,
            "kinds": sorted({message["kind"] for message in notice.messages}),
            "people": len({pk for message in notice.messages for pk in message["to"]}),
        }
        for notice in rows
    ]


@admin_required(reason=DELIVERIES)
@require_POST
def delivery_retry(request: AuthenticatedRequest, delivery_id) -> HttpResponse:
    delivery = get_object_or_404(EmailDelivery, pk=delivery_id)
    if delivery.status == EmailDelivery.Status.SENT:
        messages.error(request, "That message was already sent; it is not sent twice.")
    else:
        services.delivery_retry(delivery=delivery, actor=request.user)
        messages.success(request, f"Another attempt to {delivery.to_address} has been queued.")
    return redirect("delivery-log")


def _back_to_notices() -> HttpResponse:
    """After an action on notices: the email log, at its notices section."""
    return redirect(f"{reverse('delivery-log')}#notices")


@admin_required(reason=DELIVERIES)
@require_POST
def notice_retry(request: AuthenticatedRequest, notice_id: int) -> HttpResponse:
    notice = get_object_or_404(PendingNotice, pk=notice_id)
    if notice_services.notice_retry(notice=notice, actor=request.user):
        messages.success(request, "Another attempt at those notifications has been queued.")
    else:
        messages.error(request, "Those notifications are not failed; they are left as they are.")
    return _back_to_notices()


@admin_required(reason=DELIVERIES)
@require_POST
def notices_retry_failed(request: AuthenticatedRequest) -> HttpResponse:
    """Every failed notice tried again, not only the ones the log lists."""
    count = notice_services.notices_retry_failed(actor=request.user)
    if count:
        messages.success(
            request, f"Another attempt at {count} failed event{pluralize(count)} has been queued."
        )
    else:
        messages.info(request, "No notifications are failed.")
    return _back_to_notices()


@admin_required(reason=DELIVERIES)
@require_POST
def notice_discard(request: AuthenticatedRequest, notice_id: int) -> HttpResponse:
    notice = get_object_or_404(PendingNotice, pk=notice_id)
    if notice_services.notice_discard(notice=notice, actor=request.user):
        messages.success(request, "Those notifications were discarded: nobody will be told.")
    else:
        messages.error(request, "Only failed notifications can be discarded.")
    return _back_to_notices()


@admin_required(reason=DELIVERIES)
@require_GET
def template_previews(request: AuthenticatedRequest) -> HttpResponse:
    """Every email template rendered with its sample data, as recipients would see it."""
    previews = [(kind, _render_sample(kind, request.user)) for kind in all_kinds()]
    return render(request, "notifications/template_previews.html", {"previews": previews})


@admin_required(reason=DELIVERIES)
@require_GET
def template_preview_html(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    """The HTML body alone, shown in a sandboxed frame on the previews page."""
    try:
        kind_def = get_kind(kind)
    except LookupError:
        return HttpResponse("Unknown notification kind.", status=404)
    response = HttpResponse(_render_sample(kind_def, request.user).html)
    # Shown inside our own page: allow same-origin framing for this response only, and
    # sandbox it so nothing in an email can run.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _render_sample(kind, recipient):
    """A kind's email with its sample data, addressed to the admin looking at it."""
    context = {
        **kind.sample_context(),
        "recipient": recipient,
        "link_url": services.absolute_url("/"),
        "app_url": services.absolute_url(""),
    }
    return render_email(kind.email_template, context)
