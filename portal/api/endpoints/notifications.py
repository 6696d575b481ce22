"""/notifications: the caller's own in-app notifications (the bell), newest first."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from portal.api.problems import Problem
from portal.api.schemas import Input, Page, PathId, reject_unknown_query
from portal.lib import keyset
from portal.notifications import services
from portal.notifications.models import Notification
from portal.notifications.selectors import unread_count

router = Router(tags=["notifications"])

NEWEST_FIRST = keyset.Sort("Newest first", (("created_at", True), ("id", True)))


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    link: str
    created_at: str
    read_at: str | None


class NotificationPage(Page):
    items: list[NotificationOut]


class NotificationQuery(Input):
    unread: bool = Field(False, description="Only unread ones.")
    after: str | None = Field(None, max_length=500)
    per_page: int = Field(30, ge=1, le=100)


class UnreadCount(Schema):
    unread: int


class MarkedCount(Schema):
    marked: int


def _out(n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "text": n.text,
        "link": n.link,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }


@router.get("", response={200: NotificationPage, 400: Problem}, summary="List notifications")
def notification_list(request: HttpRequest, query: Query[NotificationQuery]):
    reject_unknown_query(request, NotificationQuery)
    rows = Notification.objects.filter(recipient=request.auth)
    if query.unread:
        rows = rows.filter(read_at__isnull=True)
    items, next_cursor = keyset.page(rows, NEWEST_FIRST, query.after, query.per_page)
    return {"items": [_out(n) for n in items], "next_cursor": next_cursor}


@router.get("/unread-count", response=UnreadCount, summary="Count unread notifications")
def notification_unread_count(request: HttpRequest):
    reject_unknown_query(request)
    return {"unread": unread_count(request.auth)}


@router.post("/read-all", response=MarkedCount, summary="Mark all as read")
def notification_read_all(request: HttpRequest):
    return {"marked": services.notifications_mark_all_read(user=request.auth)}


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, 404: Problem},
    summary="Mark one as read",
)
def notification_read(request: HttpRequest, notification_id: PathId):
    """Someone else's notification is a 404, like one that does not exist."""
    notification = Notification.objects.filter(pk=notification_id, recipient=request.auth).first()
    if notification is None:
        from django.http import Http404

        raise Http404
    services.notification_mark_read(user=request.auth, notification_id=notification.pk)
    notification.refresh_from_db(fields=["read_at"])
    return _out(notification)
