"""Every persona × every analytics view, with the exact status expected.

/analytics and its CSV downloads are for people who work tickets: requesters and outsiders
get 403 (the section is documented; hiding it would only confuse). Anonymous visitors are
sent to sign in. The usage CSV is for admins only.
"""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider", "anonymous"]


def _row(requester, agent, lead, spoc, admin, outsider, anonymous):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider, anonymous],
                    strict=True))  # fmt: skip


PAGES = {
    "/dashboard": _row(200, 200, 200, 200, 200, 200, 302),
    "/analytics": _row(403, 200, 200, 200, 200, 403, 302),
    "/analytics?period=90&priority=high": _row(403, 200, 200, 200, 200, 403, 302),
    "/analytics/trend.csv": _row(403, 200, 200, 200, 200, 403, 302),
    "/analytics/team.csv?period=7": _row(403, 200, 200, 200, 200, 403, 302),
    "/analytics/usage.csv": _row(403, 403, 403, 403, 200, 403, 302),
    "/analytics/nonsense.csv": _row(403, 404, 404, 404, 404, 403, 302),
    "/analytics?period=custom&from=2026-02-30&to=2026-03-01": _row(
        403, 400, 400, 400, 400, 403, 302
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", PAGES)
def test_each_persona_gets_the_expected_status(url, persona, personas, org, client_for):
    user = None if persona == "anonymous" else getattr(personas, persona)
    response = client_for(user).get(url)
    assert response.status_code == PAGES[url][persona]
    if response.status_code == 302:
        assert response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("url", ["/dashboard", "/analytics", "/analytics/trend.csv"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_analytics_pages_only_answer_get(url, method, personas, org, client_for):
    response = getattr(client_for(personas.admin), method)(url)
    assert response.status_code == 405
