"""Account emails that go through the outbox (the accounts app names these in settings)."""

from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import email_user

PASSWORD_RESET = Kind(
    name="password_reset",
    label="Password reset link",
    email_template="password_reset",
    sample_context=lambda: {
        "reset_url": "https://portal.example.com/password-reset/…",
        "minutes": 60,
    },
    user_can_mute_email=False,
)
register_kind(PASSWORD_RESET)


def queue_password_reset(*, user, reset_path: str, event_key: str) -> None:
    from django.conf import settings

    from portal.notifications.services import absolute_url

    email_user(
        user=user,
        kind=PASSWORD_RESET.name,
        context={
            "reset_url": absolute_url(reset_path),
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
        event_key=event_key,
    )
