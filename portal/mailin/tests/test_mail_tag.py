"""`{% ticket_mail %}` writes "no messages" without rendering its template: the same text
the template writes with none, for people who work the ticket and people who do not."""

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.test import RequestFactory

from portal.mailin.templatetags import mailin_tags

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
def test_a_ticket_with_no_mail_writes_the_templates_nothing(persona, personas, ticket):
    request = RequestFactory().get("/")
    request.user = getattr(personas, persona)
    page = Template("{% load mailin_tags %}{% ticket_mail ticket %}")
    written = page.render(Context({"request": request, "ticket": ticket}))
    assert written == get_template("mailin/_ticket_mail.html").render({"messages": []})
    assert written == mailin_tags.NOTHING
