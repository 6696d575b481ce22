"""The rating link: asked for on resolution, one click opens the page with the answer
chosen, the POST records it once; forged, altered, expired, replayed and stale links are
refused with nothing recorded. A bad rating tells the team's leads."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from portal.csat import links
from portal.csat.models import Rating
from portal.notifications.models import EmailDelivery, Notification
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import services
from portal.tickets.models import Status

pytestmark = pytest.mark.django_db


def _link(resolved, score="good") -> str:
    return links.rating_path(resolved, score)


def test_resolving_asks_the_requester_by_email_and_the_emailed_link_records_the_rating(
    ticket, resolve, settings
):
    settings.APP_URL = "https://portal.example.com"
    resolved = resolve(ticket)
    deliver_pending()
    [email] = written(EmailDelivery.objects.filter(kind="csat_request"))
    assert email.to_address == "requester@example.com"
    [notice] = Notification.objects.filter(kind="csat_request")
    assert notice.link == f"/tickets/{resolved.number}#rating"
    good = re.search(r"Good: https://portal\.example\.com(/rate/\S+)", email.body_text).group(1)
    assert good.endswith("?score=good") and 'score=bad"' in email.body_html
    client = Client()
    assert client.get(good).status_code == 200
    assert client.post(good, {"score": "good"}).status_code == 200
    assert Rating.objects.get().score == "good"


def test_one_click_shows_the_chosen_answer_and_records_nothing_until_sent(resolved):
    client = Client()  # not signed in: the link is enough
    page = client.get(_link(resolved, "bad"))
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'value="bad" required checked', html)
    assert resolved.number in html
    assert not Rating.objects.exists()


def test_sending_records_the_rating_once_and_a_replay_is_refused(resolved, personas):
    client = Client()
    url = _link(resolved)
    response = client.post(url, {"score": "good", "comment": "Quick, thanks"})
    assert response.status_code == 200
    assert b"was recorded" in response.content
    rating = Rating.objects.get()
    assert (rating.score, rating.comment, rating.rated_by, rating.resolved_at) == (
        "good",
        "Quick, thanks",
        personas.requester,
        resolved.resolved_at,
    )
    assert (rating.team_id, rating.assignee_id, rating.category_id) == (
        resolved.team_id,
        resolved.assignee_id,
        resolved.category_id,
    )
    replay = client.post(url, {"score": "bad", "comment": "changed my mind"})
    assert replay.status_code == 409
    assert b"already rated" in replay.content
    assert list(Rating.objects.values_list("score", flat=True)) == ["good"]
    deliver_pending()
    assert not Notification.objects.filter(kind="csat_bad").exists()


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: signing.dumps({"t": 1, "r": "2026-01-01T00:00:00+00:00"}, salt="other"),
        lambda token: signing.dumps({"t": "x"}, salt=links.SALT),
        lambda token: "not-a-token",
    ],
)
def test_forged_or_altered_links_are_refused_with_nothing_recorded(forge, resolved):
    token = links.make_token(resolved)
    response = Client().post(f"/rate/{forge(token)}", {"score": "good"})
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert not Rating.objects.exists()


def test_a_link_for_another_ticket_cannot_be_made_without_the_secret(resolved, other_ticket):
    token = links.make_token(resolved)
    payload = signing.loads(token, salt=links.SALT)
    payload["t"] = other_ticket.pk
    forged = signing.dumps(payload, salt=links.SALT, key="not-the-secret-key")
    assert Client().post(f"/rate/{forged}", {"score": "bad"}).status_code == 400
    assert not Rating.objects.exists()


def test_an_expired_link_is_refused(resolved, settings):
    settings.CSAT_LINK_DAYS = 14
    url = _link(resolved)
    later = dt.datetime.now(dt.UTC).timestamp() + 15 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = Client().post(url, {"score": "good"})
    assert response.status_code == 400
    assert b"expired" in response.content
    assert not Rating.objects.exists()


def test_a_reopened_tickets_link_rates_nothing(resolved, personas):
    url = _link(resolved)
    services.ticket_change_status(
        actor=personas.requester, ticket=resolved, status=Status.IN_PROGRESS
    )
    response = Client().post(url, {"score": "good"})
    assert response.status_code == 409
    assert b"reopened" in response.content
    assert not Rating.objects.exists()


def test_a_bad_rating_tells_the_teams_lead_and_a_good_one_nobody(resolved, personas):
    Client().post(_link(resolved), {"score": "bad", "comment": "Still broken"})
    deliver_pending()
    notices = Notification.objects.filter(kind="csat_bad")
    assert [n.recipient.email for n in notices] == ["lead@example.com"]
    assert EmailDelivery.objects.filter(kind="csat_bad", to_address="lead@example.com").exists()


def test_no_answer_chosen_is_a_400_with_nothing_recorded(resolved):
    response = Client().post(_link(resolved), {"score": "meh"})
    assert response.status_code == 400
    assert not Rating.objects.exists()
