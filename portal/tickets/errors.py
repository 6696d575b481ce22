"""Errors ticket services raise instead of changing anything; views turn them into 4xx pages.

Each is also one of the portal's three kinds of refusal (CONTRIBUTING.md, "Errors";
`portal.lib.errors`), so code that knows only the convention handles them too:
`InvalidInput` is a `ValidationError`, `ActionForbidden` a `PermissionDenied`, and
`EditConflict` and `TicketClosed` are `Conflict`s. `TicketError` keeps the status each
answers with (`status_code`), which the API's problem mapping reads first.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError

from portal.lib.errors import Conflict

if TYPE_CHECKING:
    from django.forms import Form


class TicketError(Exception):
    """A request the services refused. `message` is written for the person who asked.

    A page may attach the bound `form` to show again with the message, under the context
    name `keep_as`, so what the person typed is not lost (tickets/views.py)."""

    status_code = 400
    form: "Form | None" = None
    keep_as: str | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(TicketError, ValidationError):  # type: ignore[misc]  # message: str here, lazy str there
    """The input cannot be applied (an empty title, a category of another group, the
    ticket already with that team). The API answers 400 `bad-request`, as it always has;
    other apps' `ValidationError`s are 422 (docs/api.md)."""

    status_code = 400


class InvalidFormValues(InvalidInput):
    """Request-form values were refused; `errors` maps each field code to its message."""

    def __init__(self, errors: dict[str, str]):
        listed = "; ".join(f"{key}: {message}" for key, message in errors.items())
        super().__init__(f"Some form fields need attention: {listed}")
        self.errors = errors


class ActionForbidden(TicketError, PermissionDenied):
    """The user may see the ticket but not do this to it (outsiders get a 404 earlier)."""

    status_code = 403


class EditConflict(TicketError, Conflict):  # type: ignore[misc]  # message: str here, lazy str there
    """Someone changed the ticket after the editor loaded it. `changes` lists what changed."""

    status_code = 409

    def __init__(self, message: str, changes: list):
        super().__init__(message)
        self.changes = changes


class IdempotencyConflict(TicketError, Conflict):  # type: ignore[misc]  # message: str here, lazy str there
    """A request key sent again with a different request (another comment's text, ticket
    or visibility): nothing is written, the first request's result stands."""

    status_code = 409


class TicketClosed(TicketError, Conflict):  # type: ignore[misc]  # message: str here, lazy str there
    """The requester wrote on a ticket that is over (cancelled, or closed beyond the reopen
    window). The page offers a follow-up ticket linked to it instead."""

    status_code = 409
    follow_up = True


class OpenChildren(TicketError, Conflict):  # type: ignore[misc]  # message: str here, lazy str there
    """A parent ticket would be resolved or closed while child tickets are open, and the
    person did not say to go ahead (`with_open_children`)."""

    status_code = 409
