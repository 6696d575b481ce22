"""The kinds of notification, registered by the apps that raise them.

Notifications stay generic: the tickets app registers "ticket_created", "ticket_assigned"…
in its AppConfig.ready with a label for the preferences page, the email template name and
a sample context for the admin's template preview.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    email_template: str
    sample_context: Callable[[], dict]
    email_by_default: bool = True
    # Some mail is not optional (a password reset link): no preference switch is shown.
    user_can_mute_email: bool = True


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    _kinds[kind.name] = kind


def get_kind(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"Unknown notification kind {name!r}: register it first.") from None


def all_kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: kind.label)
