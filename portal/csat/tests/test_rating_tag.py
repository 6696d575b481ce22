"""`{% ticket_rating %}` writes "nothing to show" without rendering its template, and
what it writes is the template's text in every case: no ratings, the requester's form,
ratings given (with hostile text in the comment)."""

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.test import RequestFactory
from django.utils import timezone

from portal.csat import selectors, services
from portal.csat.templatetags import csat_tags

pytestmark = pytest.mark.django_db
TOKEN = "d" * 64
HOSTILE = '<b onmouseover="x">&\'"'


def _tag(user, ticket) -> str:
    request = RequestFactory().get("/")
    request.user = user
    page = Template("{% load csat_tags %}{% ticket_rating ticket %}")
    return page.render(Context({"request": request, "ticket": ticket, "csrf_token": TOKEN}))


def _template(user, ticket) -> str:
    ratings = list(selectors.ratings_on(user, ticket))
    return get_template("csat/_ticket_rating.html").render(
        {
            "ticket": ticket,
            "ratings": ratings,
            "is_requester": ticket.requester_id == user.pk,
            "can_rate": selectors.may_rate_now(user, ticket, ratings, timezone.now()),
            "csrf_token": TOKEN,
        }
    )


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
def test_an_open_ticket_writes_the_templates_nothing(persona, personas, ticket):
    viewer = getattr(personas, persona)
    assert _tag(viewer, ticket) == _template(viewer, ticket) == csat_tags.NOTHING


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
@pytest.mark.parametrize("rated", [False, True])
def test_a_resolved_ticket_is_what_the_template_wrote(persona, rated, personas, resolved):
    if rated:
        services.rating_record(
            actor=personas.requester,
            ticket_id=resolved.pk,
            resolved_at=resolved.resolved_at,
            score="bad",
            comment=HOSTILE,
        )
    viewer = getattr(personas, persona)
    written = _tag(viewer, resolved)
    assert written == _template(viewer, resolved)
    assert ('id="rating"' in written) == (rated or persona == "requester")
    assert HOSTILE not in written
