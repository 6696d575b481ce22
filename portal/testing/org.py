"""A small organisation around the personas, shared by every app's tests.

Group X (code X, SPOC: spoc) has category "Hardware" with subcategories "Laptop" and
"Printer"; team A (agent: member, lead: lead) is mapped from Hardware/any subcategory.
Group Y (no SPOC among the personas) with team B exists so scoping can be tested.
"""

from dataclasses import dataclass

from portal.accounts.models import User
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
    TeamMember,
)
from portal.testing.personas import PASSWORD, Personas


@dataclass
class Org:
    group_x: BusinessUnitGroup
    hardware: Category
    laptop: Subcategory
    printer: Subcategory
    team_a: Team
    group_y: BusinessUnitGroup
    payroll: Category
    team_b: Team
    mapping_hardware: ClassificationMapping


def make_org(personas: Personas) -> Org:
    group_x = BusinessUnitGroup.objects.create(name="Group X", code="X")
    group_x.spocs.add(personas.spoc)
    hardware = Category.objects.create(group=group_x, name="Hardware")
    laptop = Subcategory.objects.create(category=hardware, name="Laptop")
    printer = Subcategory.objects.create(category=hardware, name="Printer")
    team_a = Team.objects.create(name="Team A", email="team-a@example.com")
    TeamMember.objects.create(team=team_a, user=personas.agent, role=TeamMember.Role.MEMBER)
    TeamMember.objects.create(team=team_a, user=personas.lead, role=TeamMember.Role.LEAD)
    mapping = ClassificationMapping.objects.create(category=hardware, team=team_a)

    group_y = BusinessUnitGroup.objects.create(name="Group Y", code="Y")
    payroll = Category.objects.create(group=group_y, name="Payroll")
    team_b = Team.objects.create(name="Team B", email="team-b@example.com")
    return Org(group_x, hardware, laptop, printer, team_a, group_y, payroll, team_b, mapping)


@dataclass
class OtherSide:
    """People of the same roles as agent, lead and spoc, with other ids: an agent and a
    lead of team C only, a SPOC of group Y only. Team C's id is none of the groups'
    ids, so a test sees a team's id used in a group's place."""

    team_c: Team
    agent_c: User
    lead_c: User
    spoc_y: User

    def like(self, persona: str) -> User:
        return {"agent": self.agent_c, "lead": self.lead_c, "spoc": self.spoc_y}[persona]


def make_other_side(org: Org) -> OtherSide:
    for n in range(3):
        Team.objects.create(name=f"Spare team {n}")
    team_c = Team.objects.create(name="Team C", email="team-c@example.com")
    assert team_c.pk not in {org.group_x.pk, org.group_y.pk}

    def person(name: str) -> User:
        return User.objects.create_user(f"{name}@example.com", PASSWORD, full_name=name.title())

    agent_c, lead_c, spoc_y = person("agent-c"), person("lead-c"), person("spoc-y")
    TeamMember.objects.create(team=team_c, user=agent_c, role=TeamMember.Role.MEMBER)
    TeamMember.objects.create(team=team_c, user=lead_c, role=TeamMember.Role.LEAD)
    org.group_y.spocs.add(spoc_y)
    return OtherSide(team_c, agent_c, lead_c, spoc_y)
