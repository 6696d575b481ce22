"""Flash messages a client never reads stop at the newest ten (portal/lib/flash_messages.py):
a client posting form after form without loading a page in between (a script, a tab that
never shows where it was sent, the side-by-side benchmark) carries ten at most, which each
later request decodes and encodes again, instead of every one since its last page."""

import uuid
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.test import RequestFactory

from portal.lib.flash_messages import KEPT, NewestMessagesStorage

pytestmark = pytest.mark.django_db


def _comment(client, ticket, n):
    response = client.post(
        f"/tickets/{ticket.number}/comments",
        {"body": f"Checked again, attempt {n}.", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    return response


def test_the_next_page_shows_the_newest_messages_of_many_unread(client_for, ticket, personas):
    client = client_for(personas.agent)
    for n in range(KEPT + 15):
        _comment(client, ticket, n)
    # Held by the cookie alone: nothing spilled into the session.
    assert "_messages" not in client.session
    assert len(client.cookies["messages"].value) < 2048
    shown = [str(message) for message in client.get("/dashboard").context["messages"]]
    assert shown == ["Comment added."] * KEPT
    # Shown once: the page after has none left.
    assert list(client.get("/dashboard").context["messages"]) == []


def _request(cookies: dict, session):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies)
    request.session = session
    return request


def _cookies(response) -> dict:
    return {name: morsel.value for name, morsel in response.cookies.items()}


def test_messages_piled_up_before_the_cap_are_trimmed_at_the_next_message():
    """A session written before the cap may hold hundreds of unread messages (the cookie
    full, the rest in the session, as Django's storage leaves them): the next message
    stored leaves the newest ten, all in the cookie."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    before = FallbackStorage(_request({}, session))
    # Texts that do not compress away (sequential numbers alone would fit the cookie).
    texts = [f"TKT-{n:06d} raised: {uuid.uuid4().hex}" for n in range(300)]
    for text in texts:
        before.add(constants.SUCCESS, text)
    response = HttpResponse()
    before.update(response)
    assert "_messages" in session  # spilled over

    after = NewestMessagesStorage(_request(_cookies(response), session))
    after.add(constants.SUCCESS, "Comment added.")
    response = HttpResponse()
    after.update(response)
    assert "_messages" not in session
    shown = [str(m) for m in NewestMessagesStorage(_request(_cookies(response), session))]
    assert shown == [*texts[-(KEPT - 1) :], "Comment added."]


def test_a_request_keeps_all_of_its_own_messages():
    """Many warnings of one request (a file refused each) and its own confirmation are
    all shown, however many older ones there were."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    first = NewestMessagesStorage(_request({}, session))
    for n in range(5):
        first.add(constants.SUCCESS, f"TKT-{n:06d} raised.")
    response = HttpResponse()
    first.update(response)
    second = NewestMessagesStorage(_request(_cookies(response), session))
    own = [f"Not attached: photo{n}.heic is not an accepted kind of file" for n in range(12)]
    for text in [*own, "Comment added."]:
        second.add(constants.WARNING, text)
    response = HttpResponse()
    second.update(response)
    shown = [str(m) for m in NewestMessagesStorage(_request(_cookies(response), session))]
    assert shown == [*own, "Comment added."]
