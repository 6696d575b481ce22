"""How a service says no (CONTRIBUTING.md, "Errors"): the portal's one conflict error.

Services refuse by raising, before anything is written, one of:
- `django.core.exceptions.ValidationError`: the input is wrong and the caller can fix
  it. A dict names the field to blame (`{"name": ValidationError("…", code="duplicate")}`),
  a plain message blames the whole request. Pages: `portal.lib.forms.add_service_errors`;
  API: 422 `validation` with one entry per field.
- `PermissionDenied`: the caller may see it but not do this (403); `NotVisible`
  (`portal.lib.http`): not there or not theirs to see (404, the same answer for both).
- `Conflict` (below): the request is sound, but the state it meets forbids it now or
  changed under the caller (a lost race on a unique name, a limit reached). API: 409.
"""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The state forbids the request now, or changed under the caller; nothing was written.

    A `ValidationError`, so every form that shows a service's refusals shows this one too
    (above the form, through `add_service_errors`) and `except ValidationError` still
    catches it; the API tells it apart and answers 409 `conflict` rather than 422.
    """

    status_code = 409

    def __str__(self) -> str:
        # A ValidationError prints as a list's repr; a conflict is one sentence.
        return str(self.message)
