"""/users: admins list, create and deactivate users through portal.accounts.services."""

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.accounts import services
from portal.accounts.emails import normalize_email, validate_login_email
from portal.accounts.models import User
from portal.api.guards import require_admin
from portal.api.problems import Problem
from portal.api.schemas import Input, Page, PathId, reject_unknown_query
from portal.lib import keyset

router = Router(tags=["users"])

BY_ID = keyset.Sort("Oldest first", (("id", False),))
MANAGE_USERS = "Only admins can manage users."


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    is_active: bool
    is_admin: bool
    on_triage_duty: bool = Field(
        description="An admin who is told about tickets that reach nobody else."
    )


class UserPage(Page):
    items: list[UserOut]


class UserQuery(Input):
    q: str | None = Field(None, max_length=200, description="Part of the email or name.")
    after: str | None = Field(None, max_length=500)
    per_page: int = Field(50, ge=1, le=100)


class UserIn(Input):
    email: str = Field(min_length=3, max_length=254)
    full_name: str = Field(min_length=1, max_length=150)
    password: str | None = Field(
        None, min_length=1, max_length=128, description="Empty: they set one by reset link."
    )
    is_admin: bool = False


def _out(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "is_admin": user.is_staff,
        "on_triage_duty": user.on_triage_duty,
    }


@router.get("", response={200: UserPage, 403: Problem}, summary="List users (admins)")
def user_list(request: HttpRequest, query: Query[UserQuery]):
    reject_unknown_query(request, UserQuery)
    require_admin(request, MANAGE_USERS)
    users = User.objects.all()
    if query.q:
        users = users.filter(Q(email__icontains=query.q) | Q(full_name__icontains=query.q))
    rows, next_cursor = keyset.page(users, BY_ID, query.after, query.per_page)
    return {"items": [_out(u) for u in rows], "next_cursor": next_cursor}


@router.post(
    "", response={201: UserOut, 403: Problem, 409: Problem, 422: Problem}, summary="Create a user"
)
def user_create(request: HttpRequest, payload: UserIn):
    require_admin(request, MANAGE_USERS)
    email = normalize_email(payload.email)
    try:
        validate_login_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from error
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": f"{email} already has an account."})
    if payload.password is not None:
        try:
            password_validation.validate_password(
                payload.password, User(email=email, full_name=payload.full_name)
            )
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
    user = services.user_create(
        email=email,
        full_name=" ".join(payload.full_name.split()),
        password=payload.password,
        is_staff=payload.is_admin,
        actor=request.auth,
    )
    return Status(201, _out(user))


class UserUpdate(Input):
    full_name: str | None = Field(None, min_length=1, max_length=150)
    is_admin: bool | None = None
    on_triage_duty: bool | None = Field(
        None,
        description="Admins only; the last admin on duty cannot leave while a ticket could "
        "reach nobody else (422).",
    )


def _target(user_id: int) -> User:
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404
    return target


@router.patch(
    "/{user_id}",
    response={200: UserOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Rename a user, change their admin flag or triage duty",
)
def user_update(request: HttpRequest, user_id: PathId, payload: UserUpdate):
    require_admin(request, MANAGE_USERS)
    target = _target(user_id)
    if target.pk == request.auth.pk and payload.is_admin is False:
        raise PermissionDenied("You cannot remove your own admin rights.")
    services.user_update(
        user=target,
        actor=request.auth,
        full_name=" ".join((payload.full_name or target.full_name).split()),
        is_staff=payload.is_admin,
        on_triage_duty=payload.on_triage_duty,
    )
    return _out(target)


@router.post(
    "/{user_id}/reactivate",
    response={200: UserOut, 403: Problem, 404: Problem},
    summary="Reactivate a user (they sign in again; revoked tokens stay revoked)",
)
def user_reactivate(request: HttpRequest, user_id: PathId):
    require_admin(request, MANAGE_USERS)
    target = _target(user_id)
    services.user_update(
        user=target, actor=request.auth, full_name=target.full_name, is_active=True
    )
    return _out(target)


@router.post(
    "/{user_id}/deactivate",
    response={200: UserOut, 403: Problem, 404: Problem, 409: Problem},
    summary="Deactivate a user (their sessions and tokens stop working)",
)
def user_deactivate(request: HttpRequest, user_id: PathId):
    require_admin(request, MANAGE_USERS)
    target = _target(user_id)
    if target.pk == request.auth.pk:
        raise PermissionDenied("You cannot deactivate yourself.")
    services.user_update(
        user=target, actor=request.auth, full_name=target.full_name, is_active=False
    )
    return _out(target)
