"""Ratings on the ticket page and the satisfaction figures: who may do what (every
persona, exact statuses), what each sees, and figures checked against direct counts."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from portal.csat import services
from portal.csat.models import Rating

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_requester_rates_from_the_ticket_page(persona, personas, client_for, resolved):
    expected = _row(302, 403, 403, 403, 403, 404)[persona]
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{resolved.number}/rating", {"score": "good", "comment": "ok"}
    )
    assert response.status_code == expected
    assert Rating.objects.count() == (1 if expected == 302 else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_figures_are_for_people_who_work_tickets(persona, personas, client_for, org):
    expected = _row(403, 200, 200, 200, 200, 403)[persona]
    client = client_for(getattr(personas, persona))
    assert client.get("/analytics/satisfaction").status_code == expected
    assert client.get("/analytics/satisfaction.csv").status_code == expected


def test_a_second_rating_or_one_on_an_open_ticket_is_refused(personas, client_for, ticket, resolve):
    client = client_for(personas.requester)
    assert client.post(f"/tickets/{ticket.number}/rating", {"score": "good"}).status_code == 409
    resolved = resolve(ticket)
    assert client.post(f"/tickets/{resolved.number}/rating", {"score": "bad"}).status_code == 302
    assert client.post(f"/tickets/{resolved.number}/rating", {"score": "good"}).status_code == 409
    assert list(Rating.objects.values_list("score", flat=True)) == ["bad"]


def test_the_requester_gets_the_form_and_workers_see_the_rating(personas, client_for, resolved):
    requester = client_for(personas.requester)
    page = requester.get(resolved.get_absolute_url()).content.decode()
    assert 'action="/tickets/' + resolved.number + '/rating"' in page
    requester.post(f"/tickets/{resolved.number}/rating", {"score": "bad", "comment": "<b>Slow</b>"})
    page = requester.get(resolved.get_absolute_url()).content.decode()
    assert '/rating"' not in page and "your rating" in page
    lead_page = client_for(personas.lead).get(resolved.get_absolute_url()).content.decode()
    assert "rated by the requester" in lead_page
    assert "&lt;b&gt;Slow&lt;/b&gt;" in lead_page and "<b>Slow</b>" not in lead_page


def _rate(ticket, resolve, score, **extra):
    resolved = resolve(ticket)
    return services.rating_record(
        actor=None,
        ticket_id=resolved.pk,
        resolved_at=resolved.resolved_at,
        score=score,
        **extra,
    )


def test_figures_per_team_agent_and_category_match_direct_counts(
    personas, org, client_for, raise_ticket, resolve, django_assert_num_queries
):
    scores = ["good", "good", "bad", "good", "bad", "good"]
    for n, score in enumerate(scores):
        ticket = raise_ticket(title=f"t{n}", subcategory=org.printer if n % 2 else org.laptop)
        _rate(ticket, resolve, score)
    # One rating on a group Y ticket (no team, no SPOC among the personas): admins only.
    _rate(raise_ticket(group=org.group_y, category=org.payroll, subcategory=None), resolve, "bad")
    today = timezone.localdate().isoformat()
    admin = client_for(personas.admin)
    for by, column in (("team", "team_id"), ("agent", "assignee_id"), ("category", "category_id")):
        response = admin.get(f"/analytics/satisfaction.csv?by={by}&from={today}&to={today}")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == [by, "good", "bad", "total", "good %"]
        direct = {}
        for value, score in Rating.objects.values_list(column, "score"):
            direct.setdefault(value, {"good": 0, "bad": 0})[score] += 1
        assert sorted((int(r[1]), int(r[2])) for r in rows[1:]) == sorted(
            (d["good"], d["bad"]) for d in direct.values()
        )
        assert sum(int(r[3]) for r in rows[1:]) == Rating.objects.count() == 7
    # The agent sees only ratings of tickets they work (team A).
    agent_rows = list(
        csv.reader(
            io.StringIO(
                client_for(personas.agent).get("/analytics/satisfaction.csv").content.decode()
            )
        )
    )
    assert agent_rows[1:] == [["Team A", "4", "2", "6", "67"]]
    client = client_for(personas.lead)
    client.get("/analytics/satisfaction?by=agent")
    # the session with its user (1), the grouped ratings (1); roles and the bell from the
    # cache, page views written once a minute.
    with django_assert_num_queries(2):
        assert client.get("/analytics/satisfaction?by=agent").status_code == 200


def test_the_period_counts_ratings_given_in_it(personas, org, client_for, ticket, resolve):
    _rate(ticket, resolve, "good")
    today = timezone.localdate()
    client = client_for(personas.admin)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    rows = client.get(f"/analytics/satisfaction.csv?from={yesterday}&to={yesterday}")
    assert rows.content.decode().splitlines()[1:] == []
    assert client.get("/analytics/satisfaction?from=2026-13-01").status_code == 400
    assert client.get("/analytics/satisfaction?by=password").status_code == 400
    assert client.get(f"/analytics/satisfaction?from={today}&to={yesterday}").status_code == 400
