"""Template context shared by every page."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.accounts.roles import user_roles


def navigation(request: HttpRequest) -> dict:
    """The signed-in user's roles, for showing only the sections they can use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: partials that never show navigation cost no role queries.
    return {"roles": SimpleLazyObject(lambda: user_roles(user))}
