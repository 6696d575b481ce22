"""The ticket page's unbound comment and add-files fields written without building the
Django forms (detail_forms_html.comment_fields, files_field) are what `field_html` writes for
`CommentForm` and `FilesForm`, byte for byte, with the limits as configured."""

import uuid

import pytest
from django.test import override_settings

from portal.lib.widget_html import PYTHON_WIDGETS, field_html
from portal.tickets.attachment_forms import limits_text
from portal.tickets.detail_forms_html import comment_fields, files_field
from portal.tickets.forms import CommentForm, FilesForm


@pytest.mark.parametrize(
    "limits",
    [{}, {"ATTACHMENTS_PER_TICKET": 3, "ATTACHMENT_MAX_BYTES": 1_234_567}],
)
def test_the_fields_are_what_the_forms_wrote(limits):
    with override_settings(**limits):
        key = uuid.uuid4()
        form = CommentForm(renderer=PYTHON_WIDGETS)
        form.fields["idempotency_key"].initial = key
        files_form = FilesForm(renderer=PYTHON_WIDGETS)
        written = comment_fields(idempotency_key=key, limits=limits_text())
        assert written["idempotency_key"] == str(form["idempotency_key"])
        for name in ("body", "internal", "files"):
            assert written[name] == field_html(form[name]), name
        assert files_field("add-files", "Add files", required=True, limits=limits_text()) == (
            field_html(files_form["files"])
        )
        if limits:
            assert "Up to 3 files" in written["files"]
