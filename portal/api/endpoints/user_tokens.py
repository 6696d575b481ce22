"""/users/{id}/tokens: admins list a person's API tokens and revoke them.

What the person sees on their own /settings/tokens page (name, prefix, dates), never a
secret (only its digest is stored). Revoking goes through `tokens.token_revoke_for`, which
checks the admin flag itself and logs who revoked what.
"""

import datetime as dt

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from portal.api import tokens
from portal.api.endpoints.users import _target
from portal.api.guards import require_admin
from portal.api.models import ApiToken
from portal.api.problems import Problem
from portal.api.schemas import CursorQuery, Page, PathId, reject_unknown_query
from portal.lib import keyset

router = Router(tags=["users"])

NEWEST_FIRST = keyset.Sort("Newest first", (("created_at", True), ("id", True)))
OTHER_PEOPLES_TOKENS = "Only admins can see or revoke other people's tokens."


class TokenInfo(Schema):
    id: int
    name: str = Field(examples=["nightly export script"])
    prefix: str = Field(description="The token's first characters.", examples=["ptk_ab12cd"])
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="Recorded at most once a minute.")
    expired: bool
    revoked_at: dt.datetime | None


class TokenPage(Page):
    items: list[TokenInfo]


class RevokedOut(Schema):
    revoked: int = Field(description="How many tokens stopped working.")


def _out(token: ApiToken, now: dt.datetime) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "expired": token.expires_at <= now,
        "revoked_at": token.revoked_at,
    }


@router.get(
    "/{user_id}/tokens",
    response={200: TokenPage, 400: Problem, 403: Problem, 404: Problem},
    summary="List a user's tokens (admins)",
)
def user_token_list(request: HttpRequest, user_id: PathId, page: Query[CursorQuery]):
    """The tokens not revoked yet, newest first (expired ones too, marked `expired`)."""
    reject_unknown_query(request, CursorQuery)
    require_admin(request, OTHER_PEOPLES_TOKENS)
    owner = _target(user_id)
    rows, next_cursor = keyset.page(
        tokens.live_tokens(owner), NEWEST_FIRST, page.after, page.per_page
    )
    now = timezone.now()
    return {"items": [_out(t, now) for t in rows], "next_cursor": next_cursor}


@router.post(
    "/{user_id}/tokens/{token_id}/revoke",
    response={200: RevokedOut, 403: Problem, 404: Problem},
    summary="Revoke one of a user's tokens (admins)",
)
def user_token_revoke(request: HttpRequest, user_id: PathId, token_id: PathId):
    """It stops working at once. A token that is not theirs, or already revoked, is 404."""
    require_admin(request, OTHER_PEOPLES_TOKENS)
    revoked = tokens.token_revoke_for(actor=request.auth, owner=_target(user_id), token_id=token_id)
    if not revoked:
        raise Http404
    return {"revoked": revoked}


@router.post(
    "/{user_id}/tokens/revoke-all",
    response={200: RevokedOut, 403: Problem, 404: Problem},
    summary="Revoke every token of a user (admins)",
)
def user_token_revoke_all(request: HttpRequest, user_id: PathId):
    """For a lost laptop or a leaked script: all of them stop working at once (0 if none)."""
    require_admin(request, OTHER_PEOPLES_TOKENS)
    return {"revoked": tokens.token_revoke_for(actor=request.auth, owner=_target(user_id))}
