"""How a history row reads: the one place that turns a TicketEvent into a sentence.

Events store codes for coded fields (status and priority: `in_progress`, `high`) and the
readable text for everything else (names of people and teams, titles, due times), so
figures that count events never depend on a label, and the timeline still reads right
after a team or person is renamed. Labels are looked up here, when a person reads them.
"""

from portal.catalog.models import Priority
from portal.tickets.models import Status, TicketEvent

# Fields whose values are stored as codes, with the choices that label them.
CODED_FIELDS = {"status": Status, "priority": Priority}


def label(field: str, value: str) -> str:
    """The readable form of a stored value (an unknown code reads as itself)."""
    choices = CODED_FIELDS.get(field)
    if choices is None or value not in choices.values:
        return value
    return str(choices(value).label)


def old_label(event: TicketEvent) -> str:
    return label(event.field, event.old_value)


def new_label(event: TicketEvent) -> str:
    return label(event.field, event.new_value)


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
        return f"changed the status from {old} to {new}"
    if event.field == "description":
        return "edited the description"
    if event.kind == Kind.ATTACHED:
        return f"attached {new}"
    return f"changed the {event.field} from “{_shorten(old)}” to “{_shorten(new)}”"
