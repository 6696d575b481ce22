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


def test_a_person_joined_for_naming_is_named_with_no_further_query(
    personas, org, django_assert_num_queries
):
    from portal.accounts.selectors import naming
    from portal.tickets.models import Comment
    from portal.tickets.services import comment_add, ticket_create

    ticket = ticket_create(
        requester=personas.requester, title="Printer", description="Jammed",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    comment_add(actor=personas.agent, ticket=ticket, body="On it")
    with django_assert_num_queries(1):
        comments = list(naming(Comment.objects.filter(ticket=ticket), "author"))
        assert [(c.body, str(c.author)) for c in comments] == [("On it", str(personas.agent))]
    assert comments[0].author.get_deferred_fields() >= {"password", "last_login"}
