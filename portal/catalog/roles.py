"""SPOC, agent and lead roles, from master data. Registered with accounts.roles."""

from portal.catalog.models import TeamMember


def catalog_roles(user) -> dict:
    """Two queries whatever the user's number of groups and teams."""
    spoc_group_ids = frozenset(user.spoc_groups.filter(is_active=True).values_list("id", flat=True))
    memberships = list(
        TeamMember.objects.filter(user=user, is_active=True, team__is_active=True).values_list(
            "team_id", "role"
        )
    )
    return {
        "spoc_group_ids": spoc_group_ids,
        "agent_team_ids": frozenset(team_id for team_id, _ in memberships),
        "lead_team_ids": frozenset(
            team_id for team_id, role in memberships if role == TeamMember.Role.LEAD
        ),
    }
