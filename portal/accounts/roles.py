"""Roles are derived from data, never stored as a free-text column.

Everyone is a *requester*; *admin* is the staff flag. The master-data app adds *SPOC*
(named on a business unit group), *agent* (active team member) and *lead* (lead member)
by registering a provider with `register_role_provider`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

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


RoleProvider = Callable[[object], dict]
_providers: list[RoleProvider] = []


def register_role_provider(provider: RoleProvider) -> None:
    """Apps further up the dependency chain add role data without accounts importing them."""
    if provider not in _providers:
        _providers.append(provider)


def is_admin(user) -> bool:
    """The admin role: an active user with the staff flag (no query: it is on the row)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def works_tickets(user) -> bool:
    """Admins, SPOCs and agents (leads included): the people who work tickets."""
    return user_roles(user).works_tickets


def user_roles(user) -> Roles:
    """The roles of `user`, computed once per request object (cached on the instance)."""
    if not getattr(user, "is_authenticated", False):
        return Roles()
    cached = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    data: dict = {"is_admin": is_admin(user)}
    for provider in _providers:
        data.update(provider(user))
    roles = Roles(**data)
    user._portal_roles = roles
    return roles
