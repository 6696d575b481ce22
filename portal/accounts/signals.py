"""Security events on the `portal.security` logger, and session bookkeeping at sign-in/out."""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.signals import request_finished, request_started
from django.dispatch import receiver

from portal.accounts import session_user
from portal.accounts.models import UserSession
from portal.accounts.sessions import OIDC_SID_SESSION_KEY
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")


@receiver(request_started, dispatch_uid="portal.accounts.session_user.started")
@receiver(request_finished, dispatch_uid="portal.accounts.session_user")
def _on_request_edge(sender, **kwargs):
    # A user row read with a session that nothing took must not outlive its request, nor
    # one read outside a request (a shell, a command) reach the next.
    session_user.forget()


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    if request is not None and request.session.session_key is None:
        # Signing in over another account's session flushes it: its new key exists only
        # once saved, and an unrecorded session would escape "end the user's sessions".
        request.session.save()
    if request is not None and request.session.session_key:
        UserSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": user,
                "ip_address": client_ip(request),
                "user_agent": request.headers.get("User-Agent", "")[:300],
                "oidc_sid": request.session.pop(OIDC_SID_SESSION_KEY, "")[:255],
            },
        )
    security_log.info(
        "login ok", extra={"user_id": user.pk, "ip": client_ip(request) if request else None}
    )


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    security_log.info("logout", extra={"user_id": getattr(user, "pk", None)})


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    security_log.warning(
        "login failed",
        extra={
            "email": credentials.get("username") or credentials.get("email"),
            "ip": client_ip(request) if request else None,
        },
    )
