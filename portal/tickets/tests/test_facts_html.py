"""The ticket page's facts written in Python (detail_html.facts_html) are what the
template lines and the SLA inclusion tag they replaced wrote, byte for byte: with and
without a subcategory, team, assignee or SLA, waiting for someone, paused and breached
targets, every closing time, and hostile text everywhere."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import Context, Engine
from django.utils import timezone

from portal.lib.dates import ShortDates
from portal.sla.clock import SlaState
from portal.tickets import sla
from portal.tickets.detail_html import facts_html

# tickets/detail.html's facts before this change, its `{% sla_facts ticket %}` tag
# rendering SLA_FACTS (tickets/_sla_facts.html, gone with it) with `targets` and `ticket`.
FACTS = (  # fmt: skip
    "      <dt>Status</dt><dd>{{ ticket.get_status_display }}</dd>\n"
    "      <dt>Priority</dt><dd>{{ ticket.get_priority_display }}</dd>\n"
    "      <dt>Requester</dt><dd>{{ ticket.requester }}</dd>\n"
    "      <dt>Classification</dt><dd>{{ ticket.group }} / {{ ticket.category }}{% if ticket.subcategory %} / {{ ticket.subcategory }}{% endif %}</dd>\n"  # noqa: E501
    '      <dt>Team</dt><dd>{{ ticket.team|default:"Unassigned" }}</dd>\n'
    "      <dt>Assignee</dt><dd>{% if ticket.assignee %}{{ ticket.assignee }}{% elif waiting_for %}Nobody yet: waiting for {{ waiting_for }}{% else %}Nobody yet{% endif %}</dd>\n"  # noqa: E501
    '      <dt>Raised</dt><dd>{{ ticket.created_at|date:"j M Y H:i" }}</dd>\n'
    "      {% sla_facts ticket %}\n"
    '      {% if ticket.first_response_at %}<dt>First response</dt><dd>{{ ticket.first_response_at|date:"j M Y H:i" }}</dd>{% endif %}\n'  # noqa: E501
    '      {% if ticket.resolved_at %}<dt>Resolved</dt><dd>{{ ticket.resolved_at|date:"j M Y H:i" }}</dd>{% endif %}\n'  # noqa: E501
    '      {% if ticket.closed_at %}<dt>Closed</dt><dd>{{ ticket.closed_at|date:"j M Y H:i" }}</dd>{% endif %}\n'  # noqa: E501
)

SLA_FACTS = (  # fmt: skip
    "{# Due times and states of the ticket's two SLA targets, inside the facts <dl>; a paused target's badge alone says \"Paused\". #}\n"  # noqa: E501
    "{% for view in targets %}\n"
    "<dt>{{ view.target.label }} due</dt>\n"
    '<dd data-sla-target="{{ view.target.key }}">{% if view.due_at %}<time datetime="{{ view.due_at|date:\'c\' }}">{{ view.due_at|date:"j M Y H:i" }}</time> {% elif view.state == "at_risk" %}Paused {% elif view.state != "paused" %}– {% endif %}<span class="sla sla-{{ view.state }}">{{ view.label }}</span></dd>\n'  # noqa: E501
    "{% empty %}\n"
    '<dt>Service level</dt><dd class="muted">No SLA applies</dd>\n'
    "{% endfor %}\n"
    "{% if targets %}<dt>SLA policy</dt><dd>{{ ticket.sla_policy_name }}</dd>{% endif %}\n"
)

HOSTILE = '<b onmouseover="x">&\'"'
WHEN = dt.datetime(2026, 3, 9, 7, 5, tzinfo=dt.UTC)


def _old(ticket, waiting_for, views) -> str:
    sla_html = Engine().from_string(SLA_FACTS).render(Context({"targets": views, "ticket": ticket}))
    source = FACTS.replace("{% sla_facts ticket %}", "{{ sla_html }}")
    context = {"ticket": ticket, "waiting_for": waiting_for, "sla_html": sla_html}
    return Engine(autoescape=True).from_string(source).render(Context(context))


class _Ticket(SimpleNamespace):
    def get_status_display(self):
        return self.status_label

    def get_priority_display(self):
        return self.priority_label


def _ticket(**changes) -> _Ticket:
    fields = dict(
        status_label="In progress", priority_label="High", requester="Rita Requester",
        group="IT", category="Hardware", subcategory="Laptop", team="Team A",
        assignee="Ann Agent", created_at=WHEN, first_response_at=None, resolved_at=None,
        closed_at=None, sla_policy_name="Standard",
    )  # fmt: skip
    fields.update(changes)
    return _Ticket(**fields)


def _views(*states: tuple[SlaState, bool]) -> list:
    return [
        sla.TargetView(target, WHEN + dt.timedelta(hours=4) if due else None, state)
        for target, (state, due) in zip(sla.TARGETS, states, strict=False)
    ]


CASES = [
    (_ticket(), None, _views((SlaState.ON_TRACK, True), (SlaState.AT_RISK, True))),
    (_ticket(subcategory=None, team=None, assignee=None), None, []),
    (_ticket(assignee=None), HOSTILE, _views((SlaState.AT_RISK, False), (SlaState.PAUSED, False))),
    (
        _ticket(
            requester=HOSTILE,
            group=HOSTILE,
            category=HOSTILE,
            subcategory=HOSTILE,
            team=HOSTILE,
            assignee=HOSTILE,
            first_response_at=WHEN,
            resolved_at=WHEN + dt.timedelta(days=1),
            closed_at=WHEN + dt.timedelta(days=2),
            sla_policy_name=HOSTILE,
            status_label=HOSTILE,
            priority_label=HOSTILE,
        ),
        None,
        _views((SlaState.MET, True), (SlaState.BREACHED, False)),
    ),  # fmt: skip
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
@pytest.mark.parametrize(("ticket", "waiting_for", "views"), CASES)
def test_the_facts_are_what_the_template_wrote(ticket, waiting_for, views, zone):
    with timezone.override(zone):
        expected = _old(ticket, waiting_for, views)
        written = facts_html(ticket, waiting_for=waiting_for, sla_views=views, dates=ShortDates())
    # The template keeps the first line's indent and the last line's end around it.
    assert f"      {written}\n" == expected
    assert HOSTILE not in written
