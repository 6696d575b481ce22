"""Property-based run of the whole API against its own OpenAPI document (schemathesis 4).

For each authenticated persona and every operation (the multipart upload included),
schemathesis generates valid and invalid requests from /api/v1/openapi.json and sends them
to the Django WSGI app in this process (so they see the test database); path parameters
name real rows (the persona's ticket, a file on it, another person's id). Every answer
must be: no 5xx, a documented status code, the documented content type (problem+json for
errors), and a body matching the response schema. Bounded (a few examples per operation,
no shrinking of passes) and deterministic (`derandomize`), so CI time and results are
stable.
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
from portal.approvals.models import ApprovalStep
from portal.attachments.tests.files import pdf
from portal.catalog.models import ApprovalRule
from portal.kb import services as kb_services
from portal.replies import services as reply_services
from portal.tickets import attachment_services
from portal.tickets import services as ticket_services
from portal.tickets.tests.attachment_fixtures import files_storage, upload
from portal.webhooks import services as webhook_services
from portal.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
files_storage = files_storage  # the fixture: uploads go to a temporary folder

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
def test_api_conforms_to_its_openapi_document(
    persona, personas, org, ticket, wsgi_app, settings, files_storage
):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    secret = tokens.token_create(user=getattr(personas, persona), name="schemathesis").secret
    headers = {"Authorization": f"Bearer {secret}"}
    attachment = attachment_services.attachment_add(
        actor=personas.requester, ticket=ticket, files=[upload("invoice.pdf", pdf())]
    ).attachments[0]
    # Another person's token: the admin's revocations hit a real one, never this run's own.
    tokens.token_create(user=personas.spoc, name="spoc's script")
    reply = reply_services.canned_reply_create(
        actor=personas.lead, title="Swap", body="{ticket.number} swapped.", team=org.team_a
    )
    # A published article of the requester's ticket's team, for the knowledge base's paths.
    article = kb_services.article_create(
        actor=personas.agent, title="Printer help", body="Tray 2.", group=ticket.group,
        category=ticket.category, owner_team=ticket.team,
    )  # fmt: skip
    kb_services.article_publish(actor=personas.agent, article=article)
    # A request by the outsider waiting for the requester's approval (named approver), so
    # the approvals paths have a real step the requester decides and others do not see.
    rule = ApprovalRule.objects.create(
        category=org.payroll, approvers=ApprovalRule.Approvers.USERS, position=1
    )
    rule.users.set([personas.requester])
    awaiting = ticket_services.ticket_create(
        requester=personas.outsider, title="Payroll correction", description="October.",
        group=org.group_y, category=org.payroll,
    )  # fmt: skip
    step = ApprovalStep.objects.get(ticket=awaiting)
    # A hook with a failed delivery, for the webhooks paths (nothing is sent: the worker
    # does not run here).
    hook = webhook_services.webhook_create(
        actor=personas.admin,
        name="Ops",
        url="https://hooks.example.com/x",
        events=["ticket.created"],
    )
    failed = WebhookDelivery.objects.create(
        webhook=hook, event="ticket.created", event_key="k", message_id="msg_test", body="{}",
        status=WebhookDelivery.Status.FAILED,
    )  # fmt: skip
    # Real rows for the path parameters, or nearly every request would be a 404.
    known_values = {
        "reply_id": reply.pk,
        "number": ticket.number,
        "attachment_id": attachment.pk,
        "user_id": personas.spoc.pk,
        "slug": article.slug,
        "step_id": step.pk,
        "hook_id": hook.pk,
        "delivery_id": str(failed.pk),
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: list[str] = []
    statuses: list[int] = []
    by_operation: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        known = {
            name: value for name, value in known_values.items() if f"{{{name}}}" in operation.path
        } or None
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
                status = case.call_and_validate(headers=headers, checks=CHECKS).status_code
                statuses.append(status)
                by_operation.setdefault(case.operation.label, set()).add(status)

            try:
                run()
            except Exception as error:  # collect every operation's failure, then report
                failures.append(f"{operation.label} [{mode}]: {error}")
    assert not failures, "\n\n".join(failures)
    # The token worked: some requests succeeded (a broken auth would make every one 401).
    assert sum(200 <= status < 300 for status in statuses) >= 20
    assert 401 not in statuses
    # The multipart upload, the download and the watcher and token operations ran too.
    for label in (
        "POST /api/v1/tickets/{number}/attachments",
        "GET /api/v1/tickets/{number}/attachments/{attachment_id}/download",
        "GET /api/v1/tickets/{number}/attachments",
        "PUT /api/v1/tickets/{number}/watchers/me",
        "GET /api/v1/users/{user_id}/tokens",
        "POST /api/v1/tickets/{number}/canned-replies/{reply_id}/use",
        "GET /api/v1/kb/articles/{slug}",
        "PATCH /api/v1/kb/articles/{slug}",
        "GET /api/v1/approvals",
        "GET /api/v1/approvals/{step_id}",
        "POST /api/v1/approvals/{step_id}/decision",
        "GET /api/v1/webhooks/{hook_id}/deliveries",
        "POST /api/v1/webhooks/{hook_id}/deliveries/{delivery_id}/retry",
    ):
        assert by_operation.get(label), f"{label} was not exercised"
    download = by_operation["GET /api/v1/tickets/{number}/attachments/{attachment_id}/download"]
    assert 200 in download  # everyone here may see the requester's public file
    assert 200 in by_operation["GET /api/v1/kb/articles/{slug}"]  # everyone reads it
    # The requester is the approver: they read the step; the others are told 404.
    approval = by_operation["GET /api/v1/approvals/{step_id}"]
    assert (200 if persona == "requester" else 404) in approval
