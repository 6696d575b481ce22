"""The ticket page's links (`page_links`, columns only, visibility tested on the joined
row) are exactly `links_for`'s for every persona, both directions and every kind."""

import pytest

from portal.accounts.models import User
from portal.links import services
from portal.links.selectors import links_for, page_links

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["requester", "agent", "lead", "spoc", "admin", "watcher"])
def test_page_links_are_the_links_the_viewer_may_see(
    persona, personas, raise_ticket, ticket, other_ticket, group_y_ticket
):
    admin = personas.admin
    third = raise_ticket(title="Third")
    services.ticket_link_add(
        actor=admin, ticket=ticket, target_number=other_ticket.number, kind="relates"
    )
    services.ticket_link_add(
        actor=admin, ticket=group_y_ticket, target_number=ticket.number, kind="blocks"
    )
    services.ticket_link_add(
        actor=admin, ticket=third, target_number=ticket.number, kind="duplicate"
    )
    if persona == "watcher":
        viewer = User.objects.create_user("w@example.com", "x", full_name="Wanda")
        ticket.watchers.add(viewer)
        third.watchers.add(viewer)
    else:
        viewer = getattr(personas, persona)
    expected = [
        (link.pk, link.label, link.other.pk, link.other.title, link.other.get_status_display())
        for link in links_for(viewer, ticket)
    ]
    shown = [
        (link.pk, link.label, link.other.pk, link.other.title, link.other.get_status_display())
        for link in page_links(viewer, ticket)
    ]
    assert shown == expected
    # Not vacuous: the admin sees all three; the requester not the outsider's ticket, the
    # people working group X not the group Y one; the watcher only the one they watch.
    assert len(expected) == {"admin": 3, "watcher": 1}.get(persona, 2)
