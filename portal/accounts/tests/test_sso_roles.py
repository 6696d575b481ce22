"""Provider groups → portal admin, only through the admin-edited mapping table; Entra's
groups overage answered by Microsoft Graph (a fake Graph on loopback)."""

import json
import logging
import threading

import pytest
import werkzeug.serving
from django.test import Client

from portal.accounts.models import SsoIdentity, SsoRoleMapping
from portal.accounts.tests.test_sso import sign_in, signed_in_user
from portal.testing.oidc import employee
from portal.testing.smtp import free_port

pytestmark = pytest.mark.django_db

ADMINS_GROUP = "0f3c-admins-group-id"


@pytest.fixture
def mapped(db):
    return SsoRoleMapping.objects.create(claim_value=ADMINS_GROUP, role="admin")


def test_a_mapped_group_makes_an_admin_and_losing_it_takes_the_flag_away(
    client, oidc_provider, mapped, caplog
):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", groups=[ADMINS_GROUP]))
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        sign_in(client, oidc_provider, "ann-sub")
    ann = signed_in_user(client)
    assert ann.is_staff and SsoIdentity.objects.get(user=ann).admin_granted
    assert "sso role granted" in [r.getMessage() for r in caplog.records]

    client.logout()
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", groups=["other"]))
    sign_in(client, oidc_provider, "ann-sub")
    ann.refresh_from_db()
    assert not ann.is_staff and not SsoIdentity.objects.get(user=ann).admin_granted


def test_an_app_role_can_be_mapped_too(client, oidc_provider):
    SsoRoleMapping.objects.create(claim_value="Portal.Admin")
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", roles=["Portal.Admin"]))
    sign_in(client, oidc_provider, "ann-sub")
    assert signed_in_user(client).is_staff


def test_an_admin_made_by_a_person_keeps_the_flag_without_the_group(
    client, oidc_provider, mapped, personas
):
    oidc_provider.set_user("adm-sub", **employee("admin@example.com", groups=[]))
    sign_in(client, oidc_provider, "adm-sub")
    personas.admin.refresh_from_db()
    assert personas.admin.is_staff


def test_the_last_admin_on_triage_duty_keeps_the_flag_while_a_gap_needs_them(
    client, oidc_provider, mapped, monkeypatch
):
    from django.core.exceptions import ValidationError

    from portal.accounts import triage

    oidc_provider.set_user("ann-sub", **employee("ann@example.com", groups=[ADMINS_GROUP]))
    sign_in(client, oidc_provider, "ann-sub")
    client.logout()

    def gap(user):
        raise ValidationError("the last admin on triage duty")

    monkeypatch.setattr(triage, "check_leaving_duty", gap)
    ann = SsoIdentity.objects.get().user
    ann.on_triage_duty = True
    ann.save(update_fields=["on_triage_duty"])
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", groups=[]))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    ann.refresh_from_db()
    assert ann.is_staff and SsoIdentity.objects.get().admin_granted


# --- Entra's groups overage ----------------------------------------------------------------


@pytest.fixture
def graph(settings):
    """A fake Microsoft Graph on loopback answering checkMemberGroups."""
    state = {"member_of": set(), "requests": [], "status": 200}

    def app(environ, start_response):
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        state["requests"].append((environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION"), body))
        answer = {"value": [g for g in body["groupIds"] if g in state["member_of"]]}
        start_response(f"{state['status']} X", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    port = free_port()
    server = werkzeug.serving.make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.OIDC_ENTRA_GRAPH_URL = f"http://127.0.0.1:{port}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


OVERAGE = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "x"}}}


def test_groups_overage_asks_graph_about_the_mapped_groups(client, oidc_provider, mapped, graph):
    graph["member_of"] = {ADMINS_GROUP}
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", **OVERAGE))
    sign_in(client, oidc_provider, "ann-sub")
    assert signed_in_user(client).is_staff
    ((path, authorization, body),) = graph["requests"]
    assert path == "/v1.0/me/checkMemberGroups"
    assert authorization.startswith("Bearer ") and body == {"groupIds": [ADMINS_GROUP]}


def test_groups_overage_with_graph_down_changes_no_role(
    client, oidc_provider, mapped, graph, caplog
):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", groups=[ADMINS_GROUP]))
    sign_in(client, oidc_provider, "ann-sub")
    client.logout()
    graph["status"] = 503
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", **OVERAGE))
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    assert signed_in_user(client).is_staff  # neither granted nor taken on a guess
    assert "sso roles unchanged: groups unknown" in [r.getMessage() for r in caplog.records]


# --- the mapping table on the Django admin site ----------------------------------------------

PERSONAS = [None, "requester", "agent", "lead", "spoc", "admin", "outsider"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix_only_admins_edit_the_mapping(persona, personas):
    client = Client()
    if persona:
        client.force_login(getattr(personas, persona))
    listing = client.get("/admin/accounts/ssorolemapping/")
    added = client.post(
        "/admin/accounts/ssorolemapping/add/", {"claim_value": "g-1", "role": "admin"}
    )
    if persona == "admin":
        assert (listing.status_code, added.status_code) == (200, 302)
        assert SsoRoleMapping.objects.filter(claim_value="g-1").exists()
    else:
        assert (listing.status_code, added.status_code) == (302, 302)
        assert not SsoRoleMapping.objects.exists()
