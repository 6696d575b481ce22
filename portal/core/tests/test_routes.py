"""The seed's routes all answer, /master-data included; the favicon never 404s."""

import pytest

pytestmark = pytest.mark.django_db

# The seed's protected routes (its section "Authentication & Identity"), and /login.
SEED_ROUTES = ["/dashboard", "/tickets", "/analytics", "/teams", "/masters", "/settings",
               "/master-data", "/admin"]  # fmt: skip


@pytest.mark.parametrize("route", SEED_ROUTES)
def test_every_seed_route_answers_an_admin(route, personas, client_for):
    response = client_for(personas.admin).get(route, follow=True)
    assert response.status_code == 200, route


@pytest.mark.parametrize("route", SEED_ROUTES)
def test_every_seed_route_sends_an_anonymous_visitor_to_sign_in(route, client):
    response = client.get(route, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and "/login" in response.redirect_chain[-1][0], route


@pytest.mark.parametrize("path", ["/master-data", "/master-data/"])
def test_the_seeds_master_data_route_redirects_to_masters(path, personas, client_for):
    response = client_for(personas.admin).get(path)
    assert response.status_code == 301
    assert response["Location"] == "/masters"


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client, personas, client_for):
    login_page = client.get("/login").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in login_page
    assert 'rel="icon"' in client_for(personas.requester).get("/dashboard").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)
