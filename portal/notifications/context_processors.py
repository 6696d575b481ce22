"""The unread count for the bell in the header, computed only if a template shows it."""

from django.utils.functional import SimpleLazyObject

from portal.notifications.selectors import unread_count


def bell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread": SimpleLazyObject(lambda: unread_count(user))}
