"""An admin resets someone's two-factor (a lost phone) on /settings/users/<id>: their
authenticator and recovery codes stop working, it is logged, and where two-factor is
required they set it up again at their next sign-in. Permission and CSRF matrix."""

import logging

import pytest
from django.test import Client
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticToken

from portal.accounts.tests import test_two_factor
from portal.accounts.tests.test_two_factor import code, enrol, password, signed_in

pytestmark = pytest.mark.django_db

# The same frozen clock, and the same policy (admins need two-factor, autouse).
clock = test_two_factor.clock
admins_need_two_factor = test_two_factor.admins_need_two_factor

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def reset_url(user) -> str:
    return f"/settings/users/{user.pk}/two-factor/reset"


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_matrix_only_admins_reset_someone_elses_two_factor(persona, personas, clock):
    target = personas.lead
    enrol(target, clock)
    client = Client()
    if persona:
        client.force_login(getattr(personas, persona))
    got = {
        "GET": client.get(reset_url(target)).status_code,
        "POST": client.post(reset_url(target)).status_code,
        "POST unknown user": client.post("/settings/users/999999/two-factor/reset").status_code,
    }
    expected = {
        None: {"GET": 302, "POST": 302, "POST unknown user": 302},  # to the sign-in page
        "admin": {"GET": 405, "POST": 302, "POST unknown user": 404},
    }.get(persona, {"GET": 403, "POST": 403, "POST unknown user": 403})
    assert got == expected
    assert user_has_device(target, confirmed=True) is (persona != "admin")


def test_the_reset_needs_the_csrf_token(personas, clock):
    enrol(personas.lead, clock)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.admin)
    assert client.post(reset_url(personas.lead)).status_code == 403
    assert user_has_device(personas.lead, confirmed=True)


def test_after_a_reset_the_old_codes_fail_and_the_admin_sets_it_up_again_at_sign_in(
    client_for, personas, clock, caplog
):
    other_admin = personas.lead
    other_admin.is_staff = True
    other_admin.save(update_fields=["is_staff"])
    app, recovery = enrol(other_admin, clock)
    page = client_for(personas.admin).get(f"/settings/users/{other_admin.pk}")
    assert "10 recovery codes left" in page.content.decode()

    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = client_for(personas.admin).post(reset_url(other_admin), follow=True)
    assert "has been reset" in response.content.decode()
    assert "Not set up." in response.content.decode()
    assert not StaticToken.objects.filter(device__user=other_admin).exists()
    [event] = [r for r in caplog.records if r.getMessage() == "two-factor reset by admin"]
    assert (event.user_id, event.actor_id, event.devices) == (other_admin.pk, personas.admin.pk, 2)

    # Their next sign-in: neither the old app's code nor an old recovery code signs in;
    # the password leads to setting up a new authenticator.
    client = Client()
    assert password(client, other_admin.email)["Location"] == "/login/two-factor"
    for old in (app.at(clock.now), recovery[0]):
        assert code(client, old)["Location"] == "/login/two-factor/setup"
        assert not signed_in(client)
    page = client.get("/login/two-factor/setup")
    assert "Show the set-up code" in page.content.decode()


def test_a_requester_without_a_requirement_signs_in_with_the_password_after_a_reset(
    client_for, personas, clock
):
    enrol(personas.requester, clock)
    client_for(personas.admin).post(reset_url(personas.requester))
    client = Client()
    assert password(client, personas.requester.email).status_code == 302
    assert signed_in(client)


def test_resetting_nothing_says_so(client_for, personas):
    response = client_for(personas.admin).post(reset_url(personas.requester), follow=True)
    assert "had no two-factor set up" in response.content.decode()


def test_an_admin_cannot_reset_their_own_two_factor_here(client_for, personas, clock):
    enrol(personas.admin, clock)
    response = client_for(personas.admin).post(reset_url(personas.admin))
    assert response.status_code == 400
    assert "two-factor settings page" in response.content.decode()
    assert user_has_device(personas.admin, confirmed=True)
