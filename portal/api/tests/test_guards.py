"""Pages and API decide "who is an admin" and "who works tickets" the same way: the page
decorators (portal.accounts.decorators) and the API guards (portal.api.guards) ask the same
predicates, for every persona, including a deactivated admin."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from portal.accounts.decorators import admin_required, works_tickets_required
from portal.api.guards import require_admin, require_ticket_worker

# persona → (is an admin, works tickets)
EXPECTED = {
    "requester": (False, False),
    "agent": (False, True),
    "lead": (False, True),
    "spoc": (False, True),
    "admin": (True, True),
    "outsider": (False, False),
}


def _page_allows(decorator, user) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    try:
        return decorator(lambda request: HttpResponse("ok"))(request).status_code == 200
    except PermissionDenied:
        return False


def _api_allows(guard, user) -> bool:
    request = RequestFactory().get("/")
    request.auth = user
    try:
        guard(request)
    except PermissionDenied:
        return False
    return True


@pytest.mark.parametrize("persona", EXPECTED)
def test_pages_and_api_agree_on_who_is_an_admin_and_who_works_tickets(persona, personas, org):
    user = getattr(personas, persona)
    admin, worker = EXPECTED[persona]
    assert _page_allows(admin_required, user) is admin
    assert _page_allows(admin_required(reason="Admins only here."), user) is admin
    assert _api_allows(require_admin, user) is admin
    assert _page_allows(works_tickets_required, user) is worker
    assert _api_allows(require_ticket_worker, user) is worker


def test_a_deactivated_admin_is_no_admin_on_pages_or_api(personas):
    personas.admin.is_active = False
    assert not _page_allows(admin_required, personas.admin)
    assert not _api_allows(require_admin, personas.admin)


def test_the_reason_given_is_the_one_the_page_names(personas):
    view = admin_required(reason="Only admins can manage users.")(lambda request: None)
    request = RequestFactory().get("/")
    request.user = personas.requester
    with pytest.raises(PermissionDenied, match="Only admins can manage users."):
        view(request)


# GET /catalog/teams/{id}/members answers like /teams: the people who work tickets read it.
MEMBERS = {"requester": 403, "agent": 200, "lead": 200, "spoc": 200, "admin": 200,
           "outsider": 403, "anonymous": 401}  # fmt: skip


@pytest.mark.parametrize("persona", MEMBERS)
def test_team_members_are_read_by_the_same_people_in_the_api_as_on_the_teams_page(
    persona, personas, org, api_for, client_for, settings
):
    from portal.api.tests.conftest import persona_user

    user = persona_user(personas, persona)
    response = api_for(user).get(f"/catalog/teams/{org.team_a.pk}/members")
    assert response.status_code == MEMBERS[persona]
    if user is not None:
        settings.ROOT_URLCONF = "portal.urls"
        page = client_for(user).get(f"/teams/{org.team_a.pk}")
        assert page.status_code == MEMBERS[persona]
