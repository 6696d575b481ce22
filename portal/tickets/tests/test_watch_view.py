"""Watching a ticket from its page: who may, and what it does."""

import pytest

from portal.tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(personas, org):
    return services.ticket_create(
        requester=personas.requester, title="Badge reader broken", description="Door 3.",
        group=org.group_x, category=org.hardware,
    )  # fmt: skip


# Anyone who can see the ticket may watch it; others get 404 (no existence leak).
EXPECTED = {
    "requester": 302, "agent": 302, "lead": 302, "spoc": 302, "admin": 302,
    "outsider": 404, "anonymous": 302,
}  # fmt: skip


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_watch_permission_matrix(client_for, personas, ticket, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    client = client_for(user)
    response = client.post(f"/tickets/{ticket.number}/watch", {"watch": "1"})
    assert response.status_code == EXPECTED[persona]
    if persona == "anonymous":
        assert response["Location"].startswith("/login")
    watching = ticket.watchers.filter(pk=getattr(user, "pk", None)).exists()
    assert watching == (EXPECTED[persona] == 302 and persona != "anonymous")
    if user is not None:
        assert client.get(f"/tickets/{ticket.number}/watch").status_code in {404, 405}


def test_the_page_offers_watch_then_stop_watching(client_for, personas, ticket):
    client = client_for(personas.spoc)
    assert ">Watch</button>" in client.get(f"/tickets/{ticket.number}").content.decode()
    client.post(f"/tickets/{ticket.number}/watch", {"watch": "1"})
    html = client.get(f"/tickets/{ticket.number}").content.decode()
    assert ">Stop watching</button>" in html
    client.post(f"/tickets/{ticket.number}/watch", {"watch": "0"})
    assert not ticket.watchers.exists()
