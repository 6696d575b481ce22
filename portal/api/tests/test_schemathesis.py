"""Property-based run of the whole API against its own OpenAPI document (schemathesis 4).

For each authenticated persona and every operation, schemathesis generates valid and
invalid requests from /api/v1/openapi.json and sends them to the Django WSGI app in this
process (so they see the test database). Every answer must be: no 5xx, a documented
status code, the documented content type (problem+json for errors), and a body matching
the response schema. Bounded (a few examples per operation, no shrinking of passes) and
deterministic (`derandomize`), so CI time and results are stable.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api import tokens

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 4


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler without closing the test's connection after each request
    (the test client does the same): the requests run inside the test transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
def test_api_conforms_to_its_openapi_document(persona, personas, ticket, wsgi_app, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    secret = tokens.token_create(user=getattr(personas, persona), name="schemathesis").secret
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: list[str] = []
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # Ticket operations get the persona's real ticket, or nearly all would be 404.
        known = {"number": ticket.number} if "{number}" in operation.path else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

            try:
                run()
            except Exception as error:  # collect every operation's failure, then report
                failures.append(f"{operation.label} [{mode}]: {error}")
    assert not failures, "\n\n".join(failures)
    # The token worked: some requests succeeded (a broken auth would make every one 401).
    assert sum(200 <= status < 300 for status in statuses) >= 20
    assert 401 not in statuses
