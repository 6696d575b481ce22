"""How a history row reads: the one place that turns a TicketEvent into a sentence.

Events store codes for coded fields (status and priority: `in_progress`, `high`) and the
readable text for everything else (names of people and teams, titles, due times), so
figures that count events never depend on a label, and the timeline still reads right
after a team or person is renamed. Labels are looked up here, when a person reads them.
"""

import json

from portal.catalog import request_forms
from portal.catalog.models import Priority
from portal.tickets.models import Status, TicketEvent

# Fields whose values are stored as codes, with the choices that label them.
CODED_FIELDS = {"status": Status, "priority": Priority}
# Request-form answers are events on `form:<field code>`, their values stored as JSON.
FORM_PREFIX = "form:"
# Approval events store what happened as a code (approval_services.NOTES).
APPROVAL_VERBS = {
    "requested": "asked for approval",
    "approved": "approved the request",
    "rejected": "rejected the request",
    "reminded": "reminded the approvers",
    "skipped": "skipped the remaining approval",
    "reassigned": "passed on the approval of someone who left",
}


def label(field: str, value: str) -> str:
    """The readable form of a stored value (an unknown code reads as itself)."""
    choices = CODED_FIELDS.get(field)
    if choices is None or value not in choices.values:
        return value
    return str(choices(value).label)


def form_key(event: TicketEvent) -> str | None:
    return event.field.removeprefix(FORM_PREFIX) if event.field.startswith(FORM_PREFIX) else None


def attach_form_fields(events, definitions: dict, people: dict[int, str]) -> None:
    """Give each request-form event its field definition and the names of people its
    values name, so it reads with labels (the page loads both once for all events)."""
    for event in events:
        key = form_key(event)
        if key is not None:
            event.form_field = definitions.get(key)
            event.form_people = people


def form_event_user_ids(events, definitions: dict) -> set[int]:
    """The people named in request-form events' values (person fields store user ids)."""
    ids = set()
    for event in events:
        key = form_key(event)
        field = definitions.get(key) if key else None
        if field is not None and field.field_type == field.Type.USER:
            for raw in (event.old_value, event.new_value):
                value = _json(raw)
                if isinstance(value, int):
                    ids.add(value)
    return ids


def _json(raw: str):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _value_label(event: TicketEvent, raw: str) -> str:
    if form_key(event) is not None:
        return request_forms.display(
            getattr(event, "form_field", None), _json(raw), getattr(event, "form_people", {})
        )
    return label(event.field, raw)


def old_label(event: TicketEvent) -> str:
    return _value_label(event, event.old_value)


def new_label(event: TicketEvent) -> str:
    return _value_label(event, event.new_value)


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sentence(event: TicketEvent) -> str:
    """What the actor did, as plain text (templates escape it): "changed the status from
    New to In progress". The actor's name and the reason are shown beside it."""
    old, new = old_label(event), new_label(event)
    Kind = TicketEvent.Kind
    if event.kind == Kind.CREATED:
        return "raised the ticket"
    if event.kind == Kind.ROUTED:
        return f"routed it to {new}" if new else "routed it"
    if event.kind == Kind.ASSIGNED:
        text = f"assigned it to {new or 'nobody'}"
        return f"{text} (was {old})" if old else text
    if event.kind == Kind.WAITING:
        text = f"left it waiting for {new or 'nobody'}"
        return f"{text} (was with {old})" if old else text
    if event.kind == Kind.TEAM:
        return f"moved it from {old or 'no team'} to {new}"
    if event.kind == Kind.STATUS:
        if event.actor_id is None and event.new_value == Status.CLOSED:
            return f"closed it automatically (it was {old})"
        return f"changed the status from {old} to {new}"
    if event.kind == Kind.APPROVAL:
        verb = APPROVAL_VERBS.get(event.new_value, event.new_value)
        return f"{verb} ({old})" if old else verb
    if event.kind == Kind.REMINDED:
        return f"reminded {new or 'the requester'} that the ticket waits for their answer"
    if event.kind == Kind.MERGED:
        if event.field == "merged_into":
            return f"merged it into {new}"
        return f"merged {old} into this ticket"
    if event.kind == Kind.PARENT:
        if event.field == "child":
            return f"made {new} a child of this ticket" if new else f"removed the child {old}"
        if new:
            return f"set the parent to {new}" + (f" (was {old})" if old else "")
        return f"removed the parent {old}"
    if event.field == "link":
        return f"linked it: {new}" if new else f"removed the link: {old}"
    if event.field == "description":
        return "edited the description"
    if event.kind == Kind.ATTACHED:
        return f"attached {new}"
    key = form_key(event)
    if key is not None:
        field = getattr(event, "form_field", None)
        name = field.label if field is not None else key
        if not old:
            return f"answered “{name}” with “{_shorten(new)}”"
        if not new:
            return f"cleared “{name}” (was “{_shorten(old)}”)"
        return f"changed “{name}” from “{_shorten(old)}” to “{_shorten(new)}”"
    return f"changed the {event.field} from “{_shorten(old)}” to “{_shorten(new)}”"
