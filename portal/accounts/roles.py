"""Roles are derived from data, never stored as a free-text column.

Everyone is a *requester*; *admin* is the staff flag. The master-data app adds *SPOC*
(named on a business unit group), *agent* (active team member) and *lead* (lead member)
by registering a provider with `register_role_provider`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeIs

from django.core.cache import cache

from portal.lib.cache_versions import versioned_key
from portal.lib.memo import memoised_on

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.accounts.types import Visitor

ADMIN, SPOC, LEAD, AGENT, REQUESTER = "admin", "spoc", "lead", "agent", "requester"


@dataclass(frozen=True)
class Roles:
    """What a user is, with the ids that scope each role."""

    is_admin: bool = False
    spoc_group_ids: frozenset[int] = field(default_factory=frozenset)
    agent_team_ids: frozenset[int] = field(default_factory=frozenset)
    lead_team_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_spoc(self) -> bool:
        return bool(self.spoc_group_ids)

    @property
    def is_agent(self) -> bool:
        return bool(self.agent_team_ids)

    @property
    def is_lead(self) -> bool:
        return bool(self.lead_team_ids)

    @property
    def works_tickets(self) -> bool:
        return self.is_admin or self.is_spoc or self.is_agent

    @property
    def names(self) -> list[str]:
        flags = [
            (ADMIN, self.is_admin),
            (SPOC, self.is_spoc),
            (LEAD, self.is_lead),
            (AGENT, self.is_agent),
        ]
        return [name for name, present in flags if present] + [REQUESTER]


# The providers' data is cached per user under the "roles" version, which every write to
# what they read bumps (portal/catalog/signals.py): a role change shows on the next request.
ROLES_VERSION = "roles"
CACHE_SECONDS = 3600

# Called with a signed-in user; returns keyword arguments of `Roles` (e.g. spoc_group_ids).
RoleProvider = Callable[["User"], dict[str, Any]]
_providers: list[RoleProvider] = []


def register_role_provider(provider: RoleProvider) -> None:
    """Apps further up the dependency chain add role data without accounts importing them."""
    if provider not in _providers:
        _providers.append(provider)


def signed_in(user: "Visitor") -> TypeIs["User"]:
    """A signed-in person (not an anonymous visitor); mypy then knows `user` is a `User`."""
    return bool(getattr(user, "is_authenticated", False))


def is_admin(user: "Visitor") -> bool:
    """The admin role: an active user with the staff flag (no query: it is on the row)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def works_tickets(user: "Visitor") -> bool:
    """Admins, SPOCs and agents (leads included): the people who work tickets."""
    return user_roles(user).works_tickets


def user_roles(user: "Visitor") -> Roles:
    """The roles of `user`: once per request object (kept on the instance), and from the
    shared cache across requests (no query until master data changes)."""
    if not signed_in(user):
        return Roles()
    return memoised_on(user, "_portal_roles", lambda: _roles(user))


def give_roles(user: "User", roles: Roles) -> None:
    """Make `roles` what `user_roles(user)` answers for this user object (its life only):
    for a stand-in user who is nobody, whose access rules are compiled to SQL with
    stand-in ids (`tickets.access.stand_in_user`)."""
    memoised_on(user, "_portal_roles", lambda: roles)


def _roles(user: "User") -> Roles:
    # The admin flag is on the user row the request loaded anyway: never cached.
    key = versioned_key(ROLES_VERSION, user.pk, int(user.is_active))
    data: dict[str, Any] | None = cache.get(key)
    if data is None:
        data = {}
        for provider in _providers:
            data.update(provider(user))
        cache.set(key, data, CACHE_SECONDS)
    return Roles(is_admin=is_admin(user), **data)
