"""The manager field: set by an admin on the user page or by the user import, refused
when it names nobody, the person themself or one of their reports (a loop)."""

import pytest

from portal.accounts.importing import import_users_csv
from portal.accounts.models import User

pytestmark = pytest.mark.django_db


def _manager_of(user):
    return User.objects.get(pk=user.pk).manager


def _edit(client, user, manager: str):
    return client.post(
        f"/settings/users/{user.pk}",
        {"full_name": user.full_name, "is_active": "on", "manager": manager},
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 302), ("requester", 403), ("agent", 403), ("spoc", 403), ("outsider", 403)],
)
def test_only_admins_set_a_manager(who, status, personas, client_for):
    response = _edit(client_for(getattr(personas, who)), personas.requester, "lead@example.com")
    assert response.status_code == status
    assert _manager_of(personas.requester) == (personas.lead if status == 302 else None)


def test_the_user_page_shows_and_clears_the_manager(personas, client_for):
    client = client_for(personas.admin)
    _edit(client, personas.requester, "lead@example.com")
    page = client.get(f"/settings/users/{personas.requester.pk}").content.decode()
    assert 'value="lead@example.com"' in page
    _edit(client, personas.requester, "")
    assert _manager_of(personas.requester) is None


@pytest.mark.parametrize(
    ("manager", "message"),
    [("nobody@example.com", "Nobody signs in as"), ("requester@example.com", "loop")],
)
def test_an_unknown_manager_or_a_loop_is_refused(manager, message, personas, client_for):
    personas.lead.manager = personas.requester
    personas.lead.save(update_fields=["manager"])
    client = client_for(personas.admin)
    response = _edit(client, personas.requester, manager)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _manager_of(personas.requester) is None
    # The requester's report cannot become the requester's manager either.
    response = _edit(client, personas.requester, "lead@example.com")
    assert response.status_code == 400 and "loop" in response.content.decode()


def test_the_import_sets_managers_named_anywhere_in_the_file(personas):
    text = (
        "email,full name,password hash,active,manager email\n"
        "new.report@example.com,New Report,,yes,new.boss@example.com\n"
        "new.boss@example.com,New Boss,,yes,\n"
        "requester@example.com,Requester Persona,,yes,lead@example.com\n"
    )
    result = import_users_csv(text)
    assert result.errors == []
    assert User.objects.get(email="new.report@example.com").manager.email == "new.boss@example.com"
    assert User.objects.get(email="new.boss@example.com").manager is None
    assert _manager_of(personas.requester) == personas.lead


def test_an_import_naming_an_unknown_manager_writes_nothing(personas):
    text = (
        "email,full name,password hash,active,manager email\n"
        "new.person@example.com,New Person,,yes,\n"
        "requester@example.com,Requester Persona,,yes,ghost@example.com\n"
    )
    result = import_users_csv(text)
    assert result.errors and "Line 3" in result.errors[0]
    assert not User.objects.filter(email="new.person@example.com").exists()
    assert _manager_of(personas.requester) is None


def test_an_import_without_the_column_keeps_managers(personas):
    personas.requester.manager = personas.lead
    personas.requester.save(update_fields=["manager"])
    result = import_users_csv("email,full name\nrequester@example.com,Renamed\n")
    assert result.errors == []
    assert _manager_of(personas.requester) == personas.lead
