"""A small organisation around the personas, shared by every app's tests.

Group X (code X, SPOC: spoc) has category "Hardware" with subcategories "Laptop" and
"Printer"; team A (agent: member, lead: lead) is mapped from Hardware/any subcategory.
Group Y (no SPOC among the personas) with team B exists so scoping can be tested.
"""

from dataclasses import dataclass

from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
    TeamMember,
)
from portal.testing.personas import Personas


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
