"""Every persona × every canned-reply page and action, with the exact status expected.

Personas (portal/testing/org.py): agent is a member and lead the lead of team A; spoc is
SPOC of group X; admin is staff; requester and outsider work no tickets. The `replies`
fixture gives the agent and the lead a personal reply each, team A one reply and team B
one. Refused writes change nothing: the replies are compared before and after.
"""

import pytest

from portal.replies.models import CannedReply

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _snapshot():
    return sorted(CannedReply.objects.values_list("pk", "title", "body", "owner_id", "team_id"))


PAGES = {
    "list": ("/replies", _row(403, 200, 200, 200, 200, 403)),
    "new": ("/replies/new", _row(403, 200, 200, 200, 200, 403)),
    # Personal replies are their owner's alone; a member sees (404 elsewhere) but may not
    # change a team reply (403).
    "edit own": ("/replies/{agent_own}/edit", _row(404, 200, 404, 404, 404, 404)),
    "edit team A": ("/replies/{team_a}/edit", _row(404, 403, 200, 404, 200, 404)),
    "edit team B": ("/replies/{team_b}/edit", _row(404, 404, 404, 404, 200, 404)),
    # The picker on the ticket (team A's, raised by requester): for people working it.
    "picker": ("/tickets/{n}/canned-replies", _row(403, 200, 200, 200, 200, 404)),
}


def _ids(replies, ticket):
    return {
        "n": ticket.number,
        "agent_own": replies.agent_own.pk,
        "team_a": replies.team_a.pk,
        "team_b": replies.team_b.pk,
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_pages_answer_each_persona_with_the_expected_status(
    page, persona, personas, client_for, replies, ticket
):
    url, expected = PAGES[page]
    response = client_for(getattr(personas, persona)).get(url.format(**_ids(replies, ticket)))
    assert response.status_code == expected[persona]


def _actions(org):
    return {
        "create personal": (
            "/replies/new",
            {"title": "Mine", "body": "Hello {requester.first_name}", "scope": "personal"},
            _row(403, 302, 302, 302, 302, 403),
        ),
        # Only team A's lead and admins may share to team A; the form offers others no such
        # choice, so theirs is an invalid choice (400).
        "create for team A": (
            "/replies/new",
            {"title": "Shared", "body": "Hello", "scope": str(org.team_a.pk)},
            _row(403, 400, 302, 400, 302, 403),
        ),
        "create with unknown placeholder": (
            "/replies/new",
            {"title": "Bad", "body": "{ticket.__class__}", "scope": "personal"},
            _row(403, 400, 400, 400, 400, 403),
        ),
        "edit own": (
            "/replies/{agent_own}/edit",
            {"title": "Restart", "body": "Please restart."},
            _row(404, 302, 404, 404, 404, 404),
        ),
        "edit team A": (
            "/replies/{team_a}/edit",
            {"title": "Swap", "body": "We swap it."},
            _row(404, 403, 302, 404, 302, 404),
        ),
        "delete own": ("/replies/{agent_own}/delete", {}, _row(404, 302, 404, 404, 404, 404)),
        "delete team A": ("/replies/{team_a}/delete", {}, _row(404, 403, 302, 404, 302, 404)),
        "delete team B": ("/replies/{team_b}/delete", {}, _row(404, 404, 404, 404, 302, 404)),
        # Inserting changes nothing stored: it answers the filled-in comment box.
        "insert team A reply": (
            "/tickets/{n}/canned-replies/{team_a}/insert",
            {"body": "Hello"},
            _row(403, 200, 200, 200, 200, 404),
        ),
        # The agent's own reply is theirs alone, even on a ticket others work.
        "insert agent's reply": (
            "/tickets/{n}/canned-replies/{agent_own}/insert",
            {},
            _row(403, 200, 404, 404, 404, 404),
        ),
        # Team B's reply is not usable on team A's ticket, even by an admin.
        "insert team B reply": (
            "/tickets/{n}/canned-replies/{team_b}/insert",
            {},
            _row(403, 404, 404, 404, 404, 404),
        ),
    }


ACTIONS = [
    "create personal",
    "create for team A",
    "create with unknown placeholder",
    "edit own",
    "edit team A",
    "delete own",
    "delete team A",
    "delete team B",
    "insert team A reply",
    "insert agent's reply",
    "insert team B reply",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
def test_actions_answer_each_persona_with_the_expected_status_and_refusals_change_nothing(
    action, persona, personas, org, client_for, replies, ticket
):
    url, data, expected = _actions(org)[action]
    before = _snapshot()
    response = client_for(getattr(personas, persona)).post(
        url.format(**_ids(replies, ticket)), data
    )
    assert response.status_code == expected[persona]
    if response.status_code != 302:
        assert _snapshot() == before


@pytest.mark.parametrize("method", ["get", "put"])
def test_delete_and_insert_accept_post_only(method, personas, client_for, replies, ticket):
    client = client_for(personas.lead)
    for url in (
        f"/replies/{replies.team_a.pk}/delete",
        f"/tickets/{ticket.number}/canned-replies/{replies.team_a.pk}/insert",
    ):
        assert getattr(client, method)(url).status_code == 405
