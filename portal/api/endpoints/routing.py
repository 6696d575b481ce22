"""/catalog/teams/{id}/members and /catalog/mappings: who works a team, and which
classification goes to which team. Members are read by the people who work tickets (as
the /teams pages), mappings by everyone signed in; both are written by admins through
portal.catalog.services (refusals: 422 field errors)."""

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from portal.accounts.models import User
from portal.api.endpoints.catalog import ADMIN_WRITE, MASTER_DATA, _one
from portal.api.guards import require_admin, require_ticket_worker
from portal.api.problems import Problem
from portal.api.schemas import BIGINT, Input, PathId, reject_unknown_query
from portal.catalog import services
from portal.catalog.models import (
    Category,
    ClassificationMapping,
    Priority,
    Subcategory,
    Team,
    TeamMember,
)

router = Router(tags=["master data"])

TEAMS = "Teams are shown to the people who work tickets."


class MemberOut(Schema):
    id: int
    team: int
    user: int
    email: str
    full_name: str
    role: TeamMember.Role
    is_active: bool


class MemberIn(Input):
    user: int = Field(ge=1, le=BIGINT)
    role: TeamMember.Role = TeamMember.Role.MEMBER


class MemberUpdate(Input):
    role: TeamMember.Role


class MappingOut(Schema):
    id: int
    category: int
    subcategory: int | None = Field(description="null: any subcategory of the category.")
    team: int
    default_priority: Priority | None


class MappingIn(Input):
    category: int = Field(ge=1, le=BIGINT)
    subcategory: int | None = Field(None, ge=1, le=BIGINT)
    team: int = Field(ge=1, le=BIGINT)
    default_priority: Priority | None = None


def _member(m: TeamMember) -> dict:
    return {
        "id": m.pk,
        "team": m.team_id,
        "user": m.user_id,
        "email": m.user.email,
        "full_name": m.user.full_name,
        "role": m.role,
        "is_active": m.is_active,
    }


def _mapping(m: ClassificationMapping) -> dict:
    return {
        "id": m.pk,
        "category": m.category_id,
        "subcategory": m.subcategory_id,
        "team": m.team_id,
        "default_priority": m.default_priority or None,
    }


@router.get(
    "/teams/{pk}/members",
    response={200: list[MemberOut], 403: Problem, 404: Problem},
    summary="Team members",
)
def member_list(request: HttpRequest, pk: PathId):
    """A team's members, leads first ("lead" sorts before "member"), active or not. For the
    people who work tickets, as the /teams pages: a requester gets 403 on both."""
    reject_unknown_query(request)
    require_ticket_worker(request, TEAMS)
    team = _one(Team, pk)
    members = TeamMember.objects.filter(team=team).select_related("user")
    return [_member(m) for m in members.order_by("role", "user__full_name", "pk")]


@router.post(
    "/teams/{pk}/members", response={201: MemberOut, **ADMIN_WRITE}, summary="Add a member"
)
def member_add(request: HttpRequest, pk: PathId, payload: MemberIn):
    require_admin(request, MASTER_DATA)
    team = _one(Team, pk)
    user = _one(User, payload.user, "user")
    return Status(201, _member(services.team_member_add(team=team, user=user, role=payload.role)))


def _team_member(team_pk: int, member_pk: int) -> TeamMember:
    member = TeamMember.objects.select_related("user").filter(pk=member_pk, team_id=team_pk).first()
    if member is None:
        raise Http404
    return member


@router.patch(
    "/teams/{pk}/members/{member_id}",
    response={200: MemberOut, **ADMIN_WRITE},
    summary="Change a member's role",
)
def member_update(request: HttpRequest, pk: PathId, member_id: PathId, payload: MemberUpdate):
    require_admin(request, MASTER_DATA)
    member = _team_member(pk, member_id)
    return _member(services.team_member_update(member=member, role=payload.role))


@router.delete(
    "/teams/{pk}/members/{member_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Remove a member (their tickets stay assigned)",
)
def member_remove(request: HttpRequest, pk: PathId, member_id: PathId):
    require_admin(request, MASTER_DATA)
    services.team_member_remove(member=_team_member(pk, member_id))
    return Status(204, None)


@router.get("/mappings", response=list[MappingOut], summary="Classification → team routes")
def mapping_list(request: HttpRequest):
    reject_unknown_query(request)
    return [_mapping(m) for m in ClassificationMapping.objects.order_by("category_id", "pk")]


def _mapping_parts(payload: MappingIn) -> dict:
    return {
        "category": _one(Category, payload.category, "category"),
        "subcategory": (
            _one(Subcategory, payload.subcategory, "subcategory") if payload.subcategory else None
        ),
        "team": _one(Team, payload.team, "team"),
        "default_priority": payload.default_priority or "",
    }


@router.post("/mappings", response={201: MappingOut, **ADMIN_WRITE}, summary="Add a route")
def mapping_create(request: HttpRequest, payload: MappingIn):
    require_admin(request, MASTER_DATA)
    return Status(201, _mapping(services.mapping_create(**_mapping_parts(payload))))


@router.put("/mappings/{pk}", response={200: MappingOut, **ADMIN_WRITE}, summary="Replace a route")
def mapping_update(request: HttpRequest, pk: PathId, payload: MappingIn):
    require_admin(request, MASTER_DATA)
    mapping = _one(ClassificationMapping, pk)
    return _mapping(services.mapping_update(mapping=mapping, **_mapping_parts(payload)))


@router.delete(
    "/mappings/{pk}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Remove a route (routed tickets keep their team)",
)
def mapping_delete(request: HttpRequest, pk: PathId):
    require_admin(request, MASTER_DATA)
    services.mapping_delete(mapping=_one(ClassificationMapping, pk))
    return Status(204, None)
