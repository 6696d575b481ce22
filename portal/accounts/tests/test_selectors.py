"""`active_user_by_email`: whose mail is taken in and whom a request form's person field
names when it is given an address."""

import pytest

from portal.accounts.selectors import active_user_by_email

pytestmark = pytest.mark.django_db


def test_an_address_finds_its_active_account_in_any_case(personas):
    assert active_user_by_email("Requester@Example.COM") == personas.requester


def test_a_deactivated_account_is_not_found(personas):
    personas.requester.is_active = False
    personas.requester.save(update_fields=["is_active"])
    assert active_user_by_email("requester@example.com") is None


def test_an_unknown_address_is_not_found(personas):
    assert active_user_by_email("nobody@example.com") is None
