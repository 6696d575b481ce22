"""The header's Approvals link: how many approvals wait for the person signed in (or for
someone they stand in for), computed only when a template shows it (from the cache)."""

from django.utils.functional import SimpleLazyObject

from portal.approvals.access import pending_count


def pending_approvals(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_approvals": SimpleLazyObject(lambda: pending_count(user))}
