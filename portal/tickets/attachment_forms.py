"""The file field of the new-ticket and comment forms: several files under one name.

The field only collects the uploads; `attachment_services` validates each of them (name,
size, content), so the same rules hold for every caller, not just these forms.
"""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise, lazy


def limits_text() -> str:
    """The limits as they are configured now (settings are read when the form renders):
    the file fields' help text."""
    from portal.attachments.validation import max_upload_bytes
    from portal.tickets.attachment_services import max_per_ticket

    return (
        f"Up to {max_per_ticket()} files per ticket, {filesizeformat(max_upload_bytes())} "
        "each: PDF, images, Office documents, text. Drop files here or choose them."
    )


limits_help = lazy(limits_text, str)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Every file sent under the field, as a list (Django's FileField keeps only the last)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Files")
        kwargs.setdefault("help_text", limits_help())
        super().__init__(**kwargs)
        self.widget.attrs.update({"multiple": True, "data-attachments": ""})

    def __deepcopy__(self, memo):
        # Each form's copy of the field (Form.__init__ copies every field) holds the limits
        # as they are configured when the form is made, as text: the lazy text was worked
        # out again each time it was read, eight times on a ticket page.
        copied = super().__deepcopy__(memo)
        if isinstance(copied.help_text, Promise):
            copied.help_text = str(copied.help_text)
        return copied

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        # Empty entries (a file input sent with nothing chosen) are not files.
        return [item for item in files if item and getattr(item, "name", "")]


class SkipRefusedField(forms.BooleanField):
    """Shown after a refusal: the person agrees to send the accepted files without the rest."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Send it with the accepted files and leave the refused ones out")
        super().__init__(**kwargs)
