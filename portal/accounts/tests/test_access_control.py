"""Every page needs a login except /login, /healthz and static files."""

import pytest

pytestmark = pytest.mark.django_db

# The seed's protected sections, plus the portal's own pages. Sections other issues
# deliver still answer anonymous visitors with the login redirect.
PROTECTED = [
    "/dashboard",
    "/tickets",
    "/analytics",
    "/teams",
    "/masters",
    "/settings",
    "/settings/users",
    "/notifications",
    "/no-such-page",
]


@pytest.mark.smoke
@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_visitor_is_sent_to_login_with_the_page_to_return_to(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login?next={path}"


@pytest.mark.smoke
def test_anonymous_visitor_is_sent_from_admin_site_to_portal_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/login?next=/admin/"
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/css/portal.css"])
def test_public_paths_answer_without_login(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/settings"])
def test_signed_in_user_sees_own_pages(client_for, personas, path):
    assert client_for(personas.requester).get(path).status_code == 200


def test_home_redirects_to_dashboard(client_for, personas):
    response = client_for(personas.requester).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"


def test_signed_in_user_gets_404_page_for_unknown_path(client_for, personas):
    response = client_for(personas.requester).get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_admin_site_is_for_admins_only(client_for, personas):
    assert client_for(personas.admin).get("/admin/").status_code == 200
    # A signed-in non-admin is refused, not bounced between two login pages.
    response = client_for(personas.requester).get("/admin/", follow=True)
    assert response.status_code == 403


def test_nav_shows_users_link_only_to_admins(client_for, personas):
    assert b'href="/settings/users"' in client_for(personas.admin).get("/dashboard").content
    assert b'href="/settings/users"' not in client_for(personas.agent).get("/dashboard").content
