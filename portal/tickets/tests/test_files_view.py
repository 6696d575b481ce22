"""Adding files to a ticket without a comment, from the ticket page (/tickets/<n>/files)."""

import pytest

from portal.attachments.tests.files import EXE, pdf
from portal.tickets.models import Attachment, TicketEvent
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import stored_keys, upload

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

files_storage = attachment_fixtures.files_storage  # the fixture, for this module

# Anyone who may see the ticket may add files to it (as for comments); others get a 404.
EXPECTED = {
    "requester": 302,
    "agent": 302,
    "lead": 302,
    "spoc": 302,
    "admin": 302,
    "outsider": 404,
}


def _post(client, ticket, *files, **extra):
    return client.post(f"/tickets/{ticket.number}/files", {"add-files": list(files), **extra})


@pytest.mark.parametrize("persona", EXPECTED)
def test_each_persona_gets_the_expected_answer_and_refusals_store_nothing(
    persona, personas, ticket, client_for, files_storage
):
    user = getattr(personas, persona)
    response = _post(client_for(user), ticket, upload("signed.pdf", pdf()))
    assert response.status_code == EXPECTED[persona]
    if response.status_code == 302:
        assert response["Location"] == ticket.get_absolute_url()
        row = Attachment.objects.get(ticket=ticket)
        assert (row.original_name, row.uploader, row.comment, row.is_internal) == (
            "signed.pdf",
            user,
            None,
            False,
        )
        assert TicketEvent.objects.filter(ticket=ticket, kind="attached", actor=user).exists()
    else:
        assert not Attachment.objects.exists() and stored_keys(files_storage) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, ticket, files_storage):
    response = _post(client, ticket, upload("signed.pdf", pdf()))
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert not Attachment.objects.exists()


def test_get_is_405(personas, ticket, client_for):
    assert client_for(personas.requester).get(f"/tickets/{ticket.number}/files").status_code == 405


def test_a_refused_file_is_named_on_the_page_and_nothing_is_stored(
    personas, ticket, client_for, files_storage
):
    response = _post(client_for(personas.requester), ticket, upload("setup.exe", EXE))
    assert response.status_code == 400
    html = response.content.decode()
    assert "setup.exe" in html
    assert '<details class="add-files" open>' in html  # the form stays open with the reason
    assert not Attachment.objects.exists() and stored_keys(files_storage) == []


def test_no_file_chosen_is_a_clear_error(personas, ticket, client_for, files_storage):
    response = _post(client_for(personas.requester), ticket)
    assert response.status_code == 400
    assert "Choose at least one file." in response.content.decode()
    assert not TicketEvent.objects.filter(ticket=ticket, kind="attached").exists()


def test_the_page_has_both_pickers_with_their_own_ids_and_one_upload_script(
    personas, ticket, client_for
):
    html = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    assert html.count('id="id_files"') == 1 and html.count('id="id_add-files"') == 1
    assert html.count("js/attachments") == 1


def test_the_upload_script_gets_204_with_the_page_to_load_instead_of_a_redirect(
    personas, ticket, client_for, files_storage
):
    # XMLHttpRequest follows redirects itself and would use up the "attached" message.
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/files",
        {"add-files": [upload("signed.pdf", pdf())]},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 204
    assert response["X-Redirect"] == ticket.get_absolute_url()
    assert Attachment.objects.filter(ticket=ticket).count() == 1
