"""A Microsoft 365 token is never asked for while a database transaction is open: a slow
or hung identity platform must not hold row locks (and stall people who never touched a
mailbox). The loopback token endpoint looks at the polling thread's connection at the
moment the request arrives; and `oauth.fetch_token` refuses outright inside a transaction,
so a future caller that wraps the poll in `transaction.atomic` fails in its tests."""

import pytest
from django.db import connection, transaction
from django.utils import timezone
from werkzeug import Response

from portal.mailin import oauth, poller, tasks
from portal.mailin.tests.test_microsoft_365 import (  # noqa: F401 - fixtures
    TENANT,
    identity_platform,
    m365_mailbox,
    token_requests,
)
from portal.testing.imap import BEARER_TOKEN

pytestmark = pytest.mark.django_db


def _open_blocks(conn) -> int:
    """The transactions open on `conn`, not counting the test case's own wrapper."""
    return sum(not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks)


def _grant_and_watch(server, conn) -> list[int]:
    """Grant tokens, noting how many transactions the polling thread's connection
    (`conn`) had open when each token request reached the endpoint."""
    seen: list[int] = []

    def token(_request):
        seen.append(_open_blocks(conn))
        body = f'{{"token_type": "Bearer", "expires_in": 3599, "access_token": "{BEARER_TOKEN}"}}'
        return Response(body, content_type="application/json")

    server.expect_request(f"/{TENANT}/oauth2/v2.0/token", method="POST").respond_with_handler(token)
    return seen


def test_the_poll_task_fetches_its_token_outside_transactions(m365_mailbox, identity_platform):  # noqa: F811
    seen = _grant_and_watch(identity_platform, connection)
    assert tasks.poll_mailboxes.call() is not None
    assert seen == [0]  # asked once, with nothing open on the poller's connection
    m365_mailbox.refresh_from_db()
    assert m365_mailbox.access_token == BEARER_TOKEN and m365_mailbox.last_error == ""


def test_a_token_fetch_inside_a_transaction_is_refused(m365_mailbox, identity_platform):  # noqa: F811
    seen = _grant_and_watch(identity_platform, connection)
    with transaction.atomic(), pytest.raises(RuntimeError, match="inside a database transaction"):
        poller.poll(m365_mailbox)
    with transaction.atomic(), pytest.raises(RuntimeError, match="inside a database transaction"):
        oauth.fetch_token(m365_mailbox, now=timezone.now())
    assert seen == [] and token_requests(identity_platform) == []
