"""The file field of the new-ticket and comment forms: several files under one name.

The field only collects the uploads; `attachment_services` validates each of them (name,
size, content), so the same rules hold for every caller, not just these forms.
"""

from django import forms


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Every file sent under the field, as a list (Django's FileField keeps only the last)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Files")
        kwargs.setdefault(
            "help_text",
            "Up to 20 files per ticket, 5 MB each: PDF, images, Office documents, text. "
            "Drop files here or choose them.",
        )
        super().__init__(**kwargs)
        self.widget.attrs.update({"multiple": True, "data-attachments": ""})

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
