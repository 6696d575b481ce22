"""Admins on triage duty: the last step of the routing chain.

A ticket whose team has nobody to take it and whose group has no SPOC waits for the
admins on triage duty, so while such a gap exists at least one of them must remain.
Accounts cannot see master data (catalog sits above it), so the catalog registers a
*gap check* here, the way it registers its role provider: a callable answering a
sentence that describes one gap ("IT Network & Security has no active members"), or ""
when there is none.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from portal.accounts.models import User

GapCheck = Callable[[], str]
DUTY_FIELDS = ("is_active", "is_staff", "on_triage_duty")
_gap_checks: list[GapCheck] = []


def register_gap_check(check: GapCheck) -> None:
    if check not in _gap_checks:
        _gap_checks.append(check)


def first_gap() -> str:
    """A sentence naming one routing gap, or "" when every ticket reaches a team member."""
    for check in _gap_checks:
        if gap := check():
            return gap
    return ""


def triage_admins() -> QuerySet[User]:
    """Who is on triage duty now: active admins with the flag."""
    return User.objects.filter(is_active=True, is_staff=True, on_triage_duty=True).order_by(
        "full_name", "email"
    )


def active_admins() -> QuerySet[User]:
    """Every active admin: who is told when something of the portal's own fails (mail,
    mailboxes, webhooks), and who steps in when nobody is on triage duty."""
    return User.objects.filter(is_active=True, is_staff=True)


def on_duty(*, is_active: bool, is_staff: bool, on_triage_duty: bool) -> bool:
    return is_active and is_staff and on_triage_duty


def check_leaving_duty(user: User) -> None:
    """Refuse to take `user` off duty (flag, admin rights or account) if they are the last
    one while a gap exists. Called inside the change's transaction; the other duty rows
    are locked so two admins cannot each take the other off at the same moment."""
    others = list(triage_admins().exclude(pk=user.pk).select_for_update().values_list("pk"))
    if others:
        return
    if gap := first_gap():
        raise ValidationError(
            f"{user} is the only admin on triage duty, and tickets can still reach nobody "
            f"else ({gap}). Put another admin on triage duty first, or close the gap.",
            code="last_on_triage_duty",
        )
