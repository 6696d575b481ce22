"""Shared reads of accounts."""

from portal.accounts.models import User


def active_user_by_email(address: str) -> User | None:
    """The active account of an address (in any case), or None. Mail is never taken from,
    nor answered to, a deactivated account, and a request form's person field never names
    one."""
    return User.objects.filter(email__iexact=address, is_active=True).first()
