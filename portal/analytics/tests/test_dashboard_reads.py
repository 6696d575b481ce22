"""The dashboard's reads through statements compiled once per shape (dashboard_reads.Reads)
answer exactly as the same querysets through the ORM: every persona, in one process that
runs each shape's statement with the next person's ids, and people of more teams and
groups (other shapes)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.analytics.dashboard import dashboard_context
from portal.catalog.models import TeamMember

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]  # also on SQLite in CI


def _shown(context: dict) -> dict:
    """Everything the dashboard shows, as plain values."""
    return {
        "sections": context["sections"],
        "breakdown": context["breakdown"],
        "members": context["members"],
        "list": [
            (
                t.pk,
                t.number,
                t.title,
                t.status,
                t.updated_at,
                t.team and t.team.name,
                t.assignee and (t.assignee.pk, str(t.assignee)),
            )
            for t in context["list_tickets"]
        ],  # fmt: skip
        "list_title": context["list_title"],
        "list_url": context["list_url"],
    }


def _compare(user: User) -> None:
    fresh = User.objects.get(pk=user.pk)  # roles and reach read anew
    orm = _shown(dashboard_context(fresh, compiled_reads=False))
    assert _shown(dashboard_context(User.objects.get(pk=user.pk))) == orm


def test_every_persona_reads_what_the_orm_reads(dataset, personas):
    people = list(personas.all().values())
    for user in [*people, *reversed(people)]:
        _compare(user)


def test_people_of_more_teams_and_groups_read_what_the_orm_reads(dataset, personas, org):
    # Other shapes: an agent of two teams, a lead of two, a SPOC of two groups, an admin
    # who is also an agent and a SPOC.
    TeamMember.objects.create(team=org.team_b, user=personas.agent, role=TeamMember.Role.MEMBER)
    TeamMember.objects.create(team=org.team_b, user=personas.lead, role=TeamMember.Role.LEAD)
    org.group_y.spocs.add(personas.spoc, personas.admin)
    TeamMember.objects.create(team=org.team_a, user=personas.admin, role=TeamMember.Role.LEAD)
    for user in personas.all().values():
        _compare(user)


def test_the_compiled_reads_make_no_more_statements(dataset, personas, django_assert_num_queries):
    for user in personas.all().values():
        dashboard_context(User.objects.get(pk=user.pk), compiled_reads=False)
        fresh = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as orm:
            dashboard_context(fresh, compiled_reads=False)
        fresh = User.objects.get(pk=user.pk)
        dashboard_context(fresh)
        fresh = User.objects.get(pk=user.pk)
        with django_assert_num_queries(len(orm.captured_queries)):
            dashboard_context(fresh)


def test_a_second_persons_dashboard_of_the_same_shape_compiles_nothing(
    dataset, personas, monkeypatch
):
    from portal.lib import compiled

    dashboard_context(User.objects.get(pk=personas.requester.pk))

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(compiled, "_compiled", refuse)
    dashboard_context(User.objects.get(pk=personas.outsider.pk))
    dashboard_context(User.objects.get(pk=personas.requester.pk))


def test_people_of_other_teams_and_groups_run_the_same_statements_with_their_own_ids(
    dataset, personas, org
):
    from portal.catalog.models import Team
    from portal.lib import compiled
    from portal.testing.org import make_other_side
    from portal.tickets import services
    from portal.tickets.models import Ticket

    other = make_other_side(org)
    moved = list(Ticket.objects.filter(group=org.group_y, status__in=["new", "in_progress"])[:2])
    assert moved  # team C has tickets of its own to show
    for ticket in moved:
        services.ticket_move_team(
            actor=personas.admin, ticket=ticket, team=other.team_c, reason="Ours"
        )
    for role in ("agent", "lead", "spoc"):
        _compare(getattr(personas, role))
        before = set(compiled._shapes)
        _compare(other.like(role))
        # The same shape: the first person's statements ran with the second one's ids.
        assert set(compiled._shapes) == before, role
        shown = _shown(dashboard_context(User.objects.get(pk=other.like(role).pk)))
        team_a = Team.objects.get(pk=org.team_a.pk).name
        assert all(row[5] != team_a for row in shown["list"]), role
