"""An outbox row's message: kept as the event's values, rendered when the worker sends it.

The request that causes an event stores the template context (`pending`), which must be
plain JSON: text, numbers, true/false, null, lists and objects with text keys. A value
JSON cannot keep as it is (a date, a model, a tuple) is refused here, in the event's own
request, where a test sees it, not later in the worker. The worker renders the message
from it before the first attempt (`delivery.attempt`) and stores the result; the
recipient (for the greeting) is the row's own.
"""

import math

from portal.lib.emails import RenderedEmail, render_email, tagged_subject
from portal.notifications.kinds import get_kind

# Exactly these types: a subclass would not come back as itself (a SafeString returns as
# plain text, then escaped), and JSON has no NaN or infinity.
_PLAIN = (str, int, bool, type(None))


def pending(context: dict, *, subject_tag: str = "") -> dict:
    """What the worker renders a message from: the context and the subject's tag."""
    _check_plain(context, "context")
    return {"context": context, "subject_tag": subject_tag}


def _check_plain(value, where: str) -> None:
    if type(value) in _PLAIN or (type(value) is float and math.isfinite(value)):
        return
    if type(value) is list:
        for n, item in enumerate(value):
            _check_plain(item, f"{where}[{n}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"An email's {where} has a key that is not text: {key!r}.")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"An email's {where} is a {type(value).__name__}: the outbox keeps plain JSON only "
        "(pass text, e.g. a date already formatted)."
    )


def render(delivery) -> RenderedEmail:
    """The message of a row still `pending` (its recipient read with it, for the greeting)."""
    stored = delivery.pending
    context = dict(stored["context"])
    if delivery.recipient_id is not None:
        context["recipient"] = delivery.recipient
    message = render_email(get_kind(delivery.kind).email_template, context)
    return RenderedEmail(
        subject=tagged_subject(stored.get("subject_tag", ""), message.subject),
        text=message.text,
        html=message.html,
    )


def rendered(delivery) -> RenderedEmail:
    """The row's message: as stored once rendered, else rendered now (nothing is saved)."""
    if delivery.pending is not None:
        return render(delivery)
    return RenderedEmail(subject=delivery.subject, text=delivery.body_text, html=delivery.body_html)
