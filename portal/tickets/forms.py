"""Forms for raising and working tickets. They validate input; services decide permissions."""

import uuid
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from portal.accounts.models import User
from portal.catalog.forms import ClassificationFormMixin
from portal.catalog.models import Priority, Team
from portal.tickets.attachment_forms import AttachmentsField, SkipRefusedField
from portal.tickets.models import Status
from portal.tickets.services import BODY_MAX, TITLE_MAX


class TicketCreateForm(ClassificationFormMixin, forms.Form):
    """Group → category → subcategory come from the catalog's mixin: choices narrowed to the
    chosen parent (so a re-rendered form needs no JavaScript) and refreshed by htmx."""

    title = forms.CharField(max_length=TITLE_MAX)
    priority = forms.ChoiceField(
        choices=[("", "Default for this category"), *Priority.choices], required=False
    )
    description = forms.CharField(
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists, `code` and links.",
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    # A field named like Form.files (the uploaded files): the form's metaclass moves it into
    # base_fields, so it shadows nothing at run time; django-stubs sees a class attribute.
    files = AttachmentsField()  # type: ignore[assignment]
    skip_refused = SkipRefusedField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_classification_fields()
        # A fresh key for every form shown; a re-submission of this page sends the same one.
        self.fields["idempotency_key"].initial = uuid.uuid4()


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    internal = forms.BooleanField(
        label="Internal (only people working the ticket see it)", required=False
    )
    # A field named like Form.files (the uploaded files): the form's metaclass moves it into
    # base_fields, so it shadows nothing at run time; django-stubs sees a class attribute.
    files = AttachmentsField()  # type: ignore[assignment]
    skip_refused = SkipRefusedField()
    # A fresh key each time the form is shown: sending it again (a resend after a lost
    # answer) returns the first comment (services.comment_add). Optional, so a form posted
    # without one (an older page) still comments.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4()


class FilesForm(forms.Form):
    """Files for the ticket itself, without a comment (never internal: see
    attachment_services.attachment_add)."""

    # Its fields get their own names and ids beside the comment form's on the same page.
    prefix = "add"
    # Named like Form.files, as in the forms above.
    files = AttachmentsField(required=True, label="Add files")  # type: ignore[assignment]
    skip_refused = SkipRefusedField()


class VersionedForm(forms.Form):
    """Carries the ticket version the person saw, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(max_length=1000, required=False)
    # Cancelling is final for everyone but an admin: the first post shows who will be
    # told and asks again; the second carries this flag.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # A parent with open child tickets is resolved only when this is ticked.
    with_open_children = forms.BooleanField(required=False)


class AssignForm(VersionedForm):
    assignee: "forms.ModelChoiceField[User]" = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Nobody"
    )
    reason = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args: Any, members: QuerySet[User], **kwargs: Any) -> None:
        # Its own ids: the move form on the same page also has a "reason".
        kwargs.setdefault("auto_id", "id_assign_%s")
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["assignee"]).queryset = members


class MoveTeamForm(VersionedForm):
    team = forms.ModelChoiceField(Team.objects.active(), empty_label="Choose a team")
    reason = forms.CharField(max_length=1000)


class TicketEditForm(ClassificationFormMixin, VersionedForm):
    title = forms.CharField(max_length=TITLE_MAX)
    priority = forms.ChoiceField(choices=Priority.choices)
    description = forms.CharField(max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_classification_fields()


class BulkForm(forms.Form):
    ACTIONS = [("take", "Take (assign to me)"), ("status", "Change status"), ("team", "Move team")]

    numbers = forms.MultipleChoiceField(choices=[], error_messages={"required": "Tick tickets."})
    action = forms.ChoiceField(choices=ACTIONS)
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    team = forms.ModelChoiceField(Team.objects.active(), required=False)
    reason = forms.CharField(max_length=1000, required=False)
    query = forms.CharField(max_length=2000, required=False)

    MAX = 100

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        # Any number-shaped value; access is checked per ticket by the services.
        self.numbers_sent = data.getlist("numbers")
        numbers = cast(forms.MultipleChoiceField, self.fields["numbers"])
        numbers.choices = [(n, n) for n in self.numbers_sent[: self.MAX]]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if action == "team":
            if not data.get("team"):
                self.add_error("team", "Choose the team.")
            if not (data.get("reason") or "").strip():
                self.add_error("reason", "Say why the tickets move.")
        if len(self.numbers_sent) > self.MAX:
            self.add_error("numbers", f"At most {self.MAX} tickets at a time.")
        return data
