"""`{% ticket_links %}` writes a ticket with no links in Python: the same bytes as
links/_ticket_links.html, for people who work the ticket (the add form) and people who do
not (nothing), and with links it renders the template as before."""

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.test import RequestFactory

from portal.accounts.models import User
from portal.links import services
from portal.links.models import LinkKind
from portal.tickets import access

pytestmark = pytest.mark.django_db

TOKEN = "b" * 64


def _tag(user, ticket, token=TOKEN) -> str:
    request = RequestFactory().get("/")
    request.user = user
    page = Template("{% load link_tags %}{% ticket_links ticket %}")
    return page.render(Context({"request": request, "ticket": ticket, "csrf_token": token}))


def _template(user, ticket, links, token=TOKEN) -> str:
    return get_template("links/_ticket_links.html").render(
        {
            "ticket": ticket,
            "links": links,
            "can_link": access.is_worker(user, ticket),
            "kinds": LinkKind.choices,
            "csrf_token": token,
        }
    )


@pytest.mark.parametrize("persona", ["requester", "agent", "lead", "spoc", "admin", "watcher"])
@pytest.mark.parametrize("token", [TOKEN, None])
def test_a_ticket_with_no_links_is_written_as_the_template_wrote_it(
    persona, token, personas, ticket
):
    if persona == "watcher":
        viewer = User.objects.create_user("w@example.com", "x", full_name="Wanda")
        ticket.watchers.add(viewer)
    else:
        viewer = getattr(personas, persona)
    written = _tag(viewer, ticket, token)
    assert written == _template(viewer, ticket, [], token)
    assert ('id="links"' in written) == (persona not in ("requester", "watcher"))


@pytest.mark.parametrize("persona", ["requester", "admin"])
def test_a_ticket_with_links_is_rendered_by_the_template(persona, personas, ticket, raise_ticket):
    other_ticket = raise_ticket(title='Second <b>"&')  # the requester's too
    services.ticket_link_add(
        actor=personas.admin, ticket=ticket, target_number=other_ticket.number, kind="blocks"
    )
    viewer = getattr(personas, persona)
    from portal.links.selectors import page_links

    written = _tag(viewer, ticket)
    assert written == _template(viewer, ticket, page_links(viewer, ticket))
    assert other_ticket.number in written
