"""/catalog: master data. Everyone signed in reads it (to raise tickets); admins write it
through portal.catalog.services, whose ValidationErrors become 422 problems."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.accounts.models import User
from portal.api.guards import require_admin
from portal.api.problems import Problem
from portal.api.schemas import BIGINT, Input, PathId, PositiveId, reject_unknown_query
from portal.catalog import services
from portal.catalog.models import BusinessUnitGroup, Category, Subcategory, Team

router = Router(tags=["master data"])

MASTER_DATA = "Only admins can change master data."
# 409: saved at the same moment as another change of the same name (a lost race).
ADMIN_WRITE = {403: Problem, 404: Problem, 409: Problem, 422: Problem}


class GroupOut(Schema):
    id: int
    name: str
    code: str
    is_active: bool


class CategoryOut(Schema):
    id: int
    name: str
    group: int
    is_active: bool


class SubcategoryOut(Schema):
    id: int
    name: str
    category: int
    is_active: bool


class TeamOut(Schema):
    id: int
    name: str
    email: str
    is_active: bool


class ActiveQuery(Input):
    active: bool | None = Field(None, description="true: only active; false: only inactive.")


class CategoryQuery(ActiveQuery):
    group: int | None = Field(None, ge=1, le=BIGINT)


class SubcategoryQuery(ActiveQuery):
    category: int | None = Field(None, ge=1, le=BIGINT)


class GroupIn(Input):
    name: str = Field(min_length=1, max_length=120)
    code: str = Field(min_length=1, max_length=20)
    spocs: list[PositiveId] = Field(default_factory=list, max_length=100)


class CategoryIn(Input):
    name: str = Field(min_length=1, max_length=120)
    group: int = Field(ge=1, le=BIGINT)


class SubcategoryIn(Input):
    name: str = Field(min_length=1, max_length=120)
    category: int = Field(ge=1, le=BIGINT)


class TeamIn(Input):
    name: str = Field(min_length=1, max_length=120)
    email: str = Field("", max_length=254)


def _active(queryset, active: bool | None):
    return queryset if active is None else queryset.filter(is_active=active)


def _one(model, pk: int, field: str | None = None):
    row = model.objects.filter(pk=pk).first()
    if row is None:
        if field is None:
            raise Http404
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return row


def _group(g) -> dict:
    return {"id": g.pk, "name": g.name, "code": g.code, "is_active": g.is_active}


def _category(c) -> dict:
    return {"id": c.pk, "name": c.name, "group": c.group_id, "is_active": c.is_active}


def _subcategory(s) -> dict:
    return {"id": s.pk, "name": s.name, "category": s.category_id, "is_active": s.is_active}


def _team(t) -> dict:
    return {"id": t.pk, "name": t.name, "email": t.email, "is_active": t.is_active}


@router.get("/groups", response=list[GroupOut], summary="Business unit groups")
def group_list(request: HttpRequest, query: Query[ActiveQuery]):
    reject_unknown_query(request, ActiveQuery)
    return [_group(g) for g in _active(BusinessUnitGroup.objects.order_by("name"), query.active)]


@router.get("/categories", response=list[CategoryOut], summary="Categories")
def category_list(request: HttpRequest, query: Query[CategoryQuery]):
    reject_unknown_query(request, CategoryQuery)
    rows = _active(Category.objects.order_by("name", "id"), query.active)
    if query.group is not None:
        rows = rows.filter(group_id=query.group)
    return [_category(c) for c in rows]


@router.get("/subcategories", response=list[SubcategoryOut], summary="Subcategories")
def subcategory_list(request: HttpRequest, query: Query[SubcategoryQuery]):
    reject_unknown_query(request, SubcategoryQuery)
    rows = _active(Subcategory.objects.order_by("name", "id"), query.active)
    if query.category is not None:
        rows = rows.filter(category_id=query.category)
    return [_subcategory(s) for s in rows]


@router.get("/teams", response=list[TeamOut], summary="Teams")
def team_list(request: HttpRequest, query: Query[ActiveQuery]):
    reject_unknown_query(request, ActiveQuery)
    return [_team(t) for t in _active(Team.objects.order_by("name"), query.active)]


@router.post("/groups", response={201: GroupOut, **ADMIN_WRITE}, summary="Create a group")
def group_create(request: HttpRequest, payload: GroupIn):
    require_admin(request, MASTER_DATA)
    spocs = _spocs(payload.spocs)
    group = services.group_create(name=payload.name, code=payload.code, spocs=spocs)
    return Status(201, _group(group))


@router.post("/categories", response={201: CategoryOut, **ADMIN_WRITE}, summary="Create a category")
def category_create(request: HttpRequest, payload: CategoryIn):
    require_admin(request, MASTER_DATA)
    group = _one(BusinessUnitGroup, payload.group, "group")
    return Status(201, _category(services.category_create(group=group, name=payload.name)))


@router.post(
    "/subcategories", response={201: SubcategoryOut, **ADMIN_WRITE}, summary="Create a subcategory"
)
def subcategory_create(request: HttpRequest, payload: SubcategoryIn):
    require_admin(request, MASTER_DATA)
    category = _one(Category, payload.category, "category")
    subcategory = services.subcategory_create(category=category, name=payload.name)
    return Status(201, _subcategory(subcategory))


@router.post("/teams", response={201: TeamOut, **ADMIN_WRITE}, summary="Create a team")
def team_create(request: HttpRequest, payload: TeamIn):
    require_admin(request, MASTER_DATA)
    return Status(201, _team(services.team_create(name=payload.name, email=payload.email)))


class GroupUpdate(Input):
    """Only the fields sent change; `spocs` replaces the whole list."""

    name: str | None = Field(None, min_length=1, max_length=120)
    code: str | None = Field(None, min_length=1, max_length=20)
    spocs: list[PositiveId] | None = Field(None, max_length=100)


class CategoryUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=120)
    group: int | None = Field(None, ge=1, le=BIGINT)


class SubcategoryUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=120)
    category: int | None = Field(None, ge=1, le=BIGINT)


class TeamUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=120)
    email: str | None = Field(None, max_length=254)


def _spocs(ids: list[int]) -> list[User]:
    spocs = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(spocs) != len(set(ids)):
        raise ValidationError({"spocs": "Every SPOC must be an active user's id."})
    return spocs


@router.patch("/groups/{pk}", response={200: GroupOut, **ADMIN_WRITE}, summary="Edit a group")
def group_update(request: HttpRequest, pk: PathId, payload: GroupUpdate):
    require_admin(request, MASTER_DATA)
    group = _one(BusinessUnitGroup, pk)
    spocs = _spocs(payload.spocs) if payload.spocs is not None else list(group.spocs.all())
    group = services.group_update(
        group=group, name=payload.name or group.name, code=payload.code or group.code, spocs=spocs
    )
    return _group(group)


@router.patch(
    "/categories/{pk}", response={200: CategoryOut, **ADMIN_WRITE}, summary="Edit a category"
)
def category_update(request: HttpRequest, pk: PathId, payload: CategoryUpdate):
    require_admin(request, MASTER_DATA)
    category = _one(Category, pk)
    group = _one(BusinessUnitGroup, payload.group, "group") if payload.group else category.group
    category = services.category_update(
        category=category, group=group, name=payload.name or category.name
    )
    return _category(category)


@router.patch(
    "/subcategories/{pk}",
    response={200: SubcategoryOut, **ADMIN_WRITE},
    summary="Edit a subcategory",
)
def subcategory_update(request: HttpRequest, pk: PathId, payload: SubcategoryUpdate):
    require_admin(request, MASTER_DATA)
    subcategory = _one(Subcategory, pk)
    category = (
        _one(Category, payload.category, "category") if payload.category else subcategory.category
    )
    subcategory = services.subcategory_update(
        subcategory=subcategory, category=category, name=payload.name or subcategory.name
    )
    return _subcategory(subcategory)


@router.patch("/teams/{pk}", response={200: TeamOut, **ADMIN_WRITE}, summary="Edit a team")
def team_update(request: HttpRequest, pk: PathId, payload: TeamUpdate):
    require_admin(request, MASTER_DATA)
    team = _one(Team, pk)
    email = team.email if payload.email is None else payload.email
    return _team(services.team_update(team=team, name=payload.name or team.name, email=email))


# Deactivate / reactivate: hides a record from new tickets; existing tickets keep it.
_TOGGLES = {
    "groups": (BusinessUnitGroup, "group", _group),
    "categories": (Category, "category", _category),
    "subcategories": (Subcategory, "subcategory", _subcategory),
    "teams": (Team, "team", _team),
}


def _toggle(request: HttpRequest, kind: str, pk: int, active: bool) -> dict:
    require_admin(request, MASTER_DATA)
    model, name, out = _TOGGLES[kind]
    row = _one(model, pk)
    verb = "reactivate" if active else "deactivate"
    getattr(services, f"{name}_{verb}")(**{name: row})
    row.refresh_from_db()
    return out(row)


def _toggle_view(kind: str, active: bool):
    def view(request: HttpRequest, pk: PathId):
        return _toggle(request, kind, pk, active)

    view.__name__ = f"{kind}_{'reactivate' if active else 'deactivate'}"
    return view


_OUT = {
    "groups": GroupOut,
    "categories": CategoryOut,
    "subcategories": SubcategoryOut,
    "teams": TeamOut,
}
for _kind, _schema in _OUT.items():
    for _active_flag, _verb in ((False, "deactivate"), (True, "reactivate")):
        router.post(
            f"/{_kind}/{{pk}}/{_verb}",
            response={200: _schema, **ADMIN_WRITE},
            summary=f"{_verb.title()} one of the {_kind}",
        )(_toggle_view(_kind, _active_flag))
