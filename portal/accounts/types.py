"""Who a request is from, as the type checker sees it (mypy with django-stubs).

django-stubs types `request.user` as `User | AnonymousUser`. Every page but the few marked
`login_not_required` sits behind `LoginRequiredMiddleware`, so their views take an
`AuthenticatedRequest`, whose `user` is the portal's `User`: what the services' `actor`
and `user` parameters expect.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from portal.accounts.models import User

# Whoever is asking, signed in or not. The access rules take either: an anonymous visitor
# (or a deactivated account) reaches nothing.
type Visitor = User | AnonymousUser


class AuthenticatedRequest(HttpRequest):
    """A request to a page behind `LoginRequiredMiddleware` (not `login_not_required`)."""

    user: User
