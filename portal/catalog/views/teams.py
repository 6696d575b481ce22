"""/teams: who is in which team, who leads it, and which SPOCs its tickets concern."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import works_tickets_required
from portal.accounts.roles import user_roles
from portal.catalog import services
from portal.catalog.forms import TeamMemberAddForm
from portal.catalog.models import BusinessUnitGroup, ClassificationMapping, Team, TeamMember
from portal.catalog.views.common import may_manage_team, warn_of_new_gaps
from portal.lib.forms import add_service_errors

TEAMS_PER_PAGE = 20
TEAMS = "Teams are shown to the people who work tickets."


def _active_members() -> Prefetch:
    return Prefetch(
        "members",
        queryset=TeamMember.objects.filter(is_active=True)
        .select_related("user")
        # "lead" sorts before "member": leads first.
        .order_by("role", "user__full_name", "user__email"),
        to_attr="active_members",
    )


def attach_spocs(teams: list[Team]) -> None:
    """Set `team.groups` (the groups whose tickets the team is mapped to), `team.spocs`
    (their SPOCs), and `team.leads` / `team.plain_members` from the prefetched members.

    Two queries for any number of teams (mappings → groups, then the groups' SPOCs).
    """
    team_groups: dict[int, set[int]] = {t.pk: set() for t in teams}
    pairs = (
        ClassificationMapping.objects.filter(team__in=teams)
        .values_list("team_id", "category__group_id")
        .distinct()
    )
    for team_id, group_id in pairs:
        team_groups[team_id].add(group_id)
    group_ids = set().union(*team_groups.values()) if team_groups else set()
    groups = (
        {
            g.pk: g
            for g in BusinessUnitGroup.objects.filter(pk__in=group_ids).prefetch_related("spocs")
        }
        if group_ids
        else {}
    )
    for team in teams:
        members = getattr(team, "active_members", [])
        team.leads = [m for m in members if m.role == TeamMember.Role.LEAD]
        team.plain_members = [m for m in members if m.role != TeamMember.Role.LEAD]
        team.groups = sorted((groups[g] for g in team_groups[team.pk]), key=lambda g: g.name)
        spocs = {u.pk: u for g in team.groups for u in g.spocs.all()}
        team.spocs = sorted(spocs.values(), key=lambda u: (u.full_name, u.email))


@works_tickets_required(reason=TEAMS)
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    teams = Team.objects.active().prefetch_related(_active_members()).order_by("name")
    if query:
        teams = teams.filter(
            Q(name__icontains=query)
            | Q(members__user__full_name__icontains=query, members__is_active=True)
            | Q(members__user__email__icontains=query, members__is_active=True)
        ).distinct()
    page = Paginator(teams, TEAMS_PER_PAGE).get_page(request.GET.get("page"))
    attach_spocs(page.object_list)
    roles = user_roles(request.user)
    for team in page:
        team.may_manage = roles.is_admin or team.pk in roles.lead_team_ids
    return render(request, "catalog/teams/list.html", {"page": page, "query": query})


def _team_page(request: HttpRequest, team: Team, form=None, status: int = 200) -> HttpResponse:
    manage = may_manage_team(request.user, team.pk)
    if manage and form is None:
        form = TeamMemberAddForm(may_choose_role=user_roles(request.user).is_admin)
    attach_spocs([team])
    return render(
        request,
        "catalog/teams/detail.html",
        {"team": team, "may_manage": manage, "form": form},
        status=status,
    )


def _get_team(pk: int) -> Team:
    return get_object_or_404(Team.objects.prefetch_related(_active_members()), pk=pk)


@works_tickets_required(reason=TEAMS)
@require_GET
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _team_page(request, _get_team(pk))


@works_tickets_required(reason=TEAMS)
@require_POST
def team_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = _get_team(pk)
    if not may_manage_team(request.user, team.pk):
        raise PermissionDenied("Only admins and this team's lead can change its members.")
    is_admin = user_roles(request.user).is_admin
    form = TeamMemberAddForm(request.POST, may_choose_role=is_admin)
    if form.is_valid():
        role = form.cleaned_data.get("role") or TeamMember.Role.MEMBER
        try:
            member = services.team_member_add(team=team, user=form.cleaned_data["user"], role=role)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{member.user.email} is now in {team}.")
            return redirect("team-detail", pk=team.pk)
    return _team_page(request, team, form=form, status=400)


@works_tickets_required(reason=TEAMS)
@require_POST
def team_member_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    """Ends a membership (kept, inactive, so history still shows who was in the team)."""
    team = get_object_or_404(Team, pk=pk)
    if not may_manage_team(request.user, team.pk):
        raise PermissionDenied("Only admins and this team's lead can change its members.")
    member = get_object_or_404(TeamMember.objects.select_related("user"), pk=member_id, team=team)
    # A lead manages the members; only admins take a lead out of a team.
    if member.role == TeamMember.Role.LEAD and not user_roles(request.user).is_admin:
        raise PermissionDenied("Only admins can remove a team's lead.")
    with warn_of_new_gaps(request):
        services.team_member_deactivate(member=member)
    messages.success(request, f"{member.user.email} has left {team}.")
    return redirect("team-detail", pk=team.pk)
