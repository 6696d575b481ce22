"""Errors services raise instead of changing anything; views turn them into 4xx pages."""

from typing import TYPE_CHECKING

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


class InvalidInput(TicketError):
    status_code = 400


class InvalidFormValues(InvalidInput):
    """Request-form values were refused; `errors` maps each field code to its message."""

    def __init__(self, errors: dict[str, str]):
        listed = "; ".join(f"{key}: {message}" for key, message in errors.items())
        super().__init__(f"Some form fields need attention: {listed}")
        self.errors = errors


class ActionForbidden(TicketError):
    """The user may see the ticket but not do this to it (outsiders get a 404 earlier)."""

    status_code = 403


class EditConflict(TicketError):
    """Someone changed the ticket after the editor loaded it. `changes` lists what changed."""

    status_code = 409

    def __init__(self, message: str, changes: list):
        super().__init__(message)
        self.changes = changes


class TicketClosed(TicketError):
    """The requester wrote on a ticket that is over (cancelled, or closed beyond the reopen
    window). The page offers a follow-up ticket linked to it instead."""

    status_code = 409
    follow_up = True
