"""Demo tickets for `make run`: a few hundred, in every status, with comments and history.

Every ticket is raised and worked through the services (so routing, permissions and history
are real), then its timestamps are spread over the last three months: the services stamp
"now", and a demo where everything happened in the same second would show nothing. That
re-dating is the one place that writes ticket rows directly, and it only moves times.
Tickets are raised at an even rate over those months, and a few resolved ones are
reopened by their requester (so the analytics' reopen rate is not always 0 %).

Every team is staffed, so routing hands each ticket to a person; the tickets of the
catalog demo's one unmapped category wait for their group's SPOC, who works them.

Idempotent: the tickets carry idempotency keys derived from their index, so a second run
finds the first ticket and stops. Needs the catalog's demo organisation (groups and teams
are looked up by name); without it, it says so and loads nothing.
"""

import datetime as dt
import logging
import random
import uuid

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.catalog import request_forms
from portal.catalog.models import BusinessUnitGroup, Category, FormField, Team, TeamMember
from portal.tickets import services
from portal.tickets.errors import TicketError
from portal.tickets.models import Comment, Status, Ticket, TicketEvent

log = logging.getLogger("portal.demo")

COUNT = 300
DAYS = 90
# The share of finished tickets the requester reopens ("still happening") before the
# agent resolves them again: the analytics' reopen rate has something to show.
REOPEN_SHARE = 0.08
SEED = 20260101
KEY_NAMESPACE = uuid.UUID("6f1c7f0e-3d1a-4f53-9d62-0c0de0de0001")

# Requesters and how often they raise tickets.
REQUESTERS = [
    ("employee@example.com", 40),
    ("employee2@example.com", 30),
    ("agent2@example.com", 5),
    ("spoc@example.com", 5),
    ("lead@example.com", 5),
    ("admin@example.com", 5),
    ("agent@example.com", 10),
]
GROUP_WEIGHTS = {"IT": 70, "Human Resources": 10, "Finance": 10, "Facilities": 10}
# Within a group, the everyday categories come up more (IT's go to the demo agents' team).
CATEGORY_WEIGHTS = {
    "Hardware": 30, "Accounts & Access": 20, "Email & Collaboration": 15, "Software": 15,
    "Network": 8, "Security": 6, "Telephony": 6, "Audio-visual": 4,
}  # fmt: skip
STATUS_WEIGHTS = {
    Status.NEW: 15,
    Status.IN_PROGRESS: 20,
    Status.ON_HOLD: 10,
    Status.RESOLVED: 20,
    Status.CLOSED: 25,
    Status.CANCELLED: 10,
}

TITLES = {
    "Hardware": ["{sub} will not turn on", "{sub} is very slow", "Need a replacement {sub}"],
    "Software": ["{sub}: Office keeps crashing", "{sub} for the design tools", "{sub} needed"],
    "Network": ["{sub} drops every few minutes", "Cannot connect over {sub}", "{sub} is slow"],
    "Accounts & Access": ["{sub} for the finance share", "{sub} please", "{sub} not working"],
    "Email & Collaboration": ["{sub} is full", "{sub} invites not arriving", "{sub} problem"],
    "Security": ["{sub}: suspicious email from 'CEO'", "{sub} on the train", "{sub} warning"],
    "Payroll": ["{sub} for last month", "{sub}: overtime missing", "{sub} request"],
    "Leave": ["{sub} balance looks wrong", "{sub} request for next month"],
    "Onboarding": ["{sub} starting Monday", "{sub} checklist"],
    "Expenses": ["{sub} from the client visit", "{sub} rejected, not sure why"],
    "Invoices": ["{sub} overdue", "{sub}: wrong VAT amount"],
    "Building maintenance": ["{sub} on the 3rd floor", "{sub} broken in meeting room B"],
    "Workspace": ["{sub} for the new team", "{sub} request"],
}
DESCRIPTIONS = [
    "Since this morning. I have tried restarting twice.\n\n**Impact:** I cannot work on the "
    "quarterly report.",
    "This has happened a few times this week. Steps:\n\n1. Open it\n2. Wait a minute\n3. It "
    "stops responding",
    "Could you please help? My manager approved this already.",
    "Not urgent, but it would be good to have it sorted before the end of the month.",
    "Error message says `0x80070005`. Screenshot available if needed.",
]
WORKER_REPLIES = [
    "Thanks for reporting this. I am looking into it now.",
    "Could you tell me the asset tag on the back of the device?",
    "I have applied a fix on our side; please try again and let us know.",
    "This needs a part we have ordered; expected in two days.",
    "Done. See [the guide](https://example.com/help) for next time.",
]
INTERNAL_NOTES = [
    "Same issue as last week's outage; checking with the vendor.",
    "Requester's manager confirmed approval by phone.",
    "Known bug in version 4.2, workaround only for now.",
]
REQUESTER_REPLIES = [
    "Thank you!",
    "The asset tag is LT-20931.",
    "Still happening after the fix, unfortunately.",
    "Works now, thanks for the quick help.",
]

REOPEN_REPLY = "Still happening after the fix, unfortunately. Reopening."
# Raised last, in the one category no team is mapped to: they wait for the group's SPOC.
WAITING_UNMAPPED = [
    "Projector in meeting room B shows no picture",
    "Screen in the boardroom will not wake up",
]


def _key(index: int) -> uuid.UUID:
    return uuid.uuid5(KEY_NAMESPACE, f"demo-ticket-{index}")


def load(users: dict[str, User]) -> dict[str, int]:
    """Raise and work COUNT tickets once; later runs change nothing."""
    if not BusinessUnitGroup.objects.filter(name__in=list(GROUP_WEIGHTS)).exists():
        log.warning("Demo tickets skipped: the catalog's demo organisation is not loaded.")
        return {"tickets": Ticket.objects.count()}
    if Ticket.objects.filter(idempotency_key=_key(0)).exists():
        return _counts()
    with transaction.atomic():
        _load(users, random.Random(SEED))
    return _counts()


def _counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "ticket comments": Comment.objects.count(),
        "ticket events": TicketEvent.objects.count(),
    }


def _sample(field: FormField, rng: random.Random, today: dt.date):
    """A believable answer to one request-form field (None: left unanswered)."""
    if not field.required and rng.random() < 0.4:
        return None
    kind, codes = field.field_type, [o["code"] for o in field.options or ()]
    if kind == FormField.Type.TEXT:
        return f"LT-{rng.randint(1000, 9999):05d}" if field.key == "asset_tag" else "n/a"
    if kind == FormField.Type.LONG_TEXT:
        return "As described above."
    if kind == FormField.Type.NUMBER:
        low = float(field.min_value if field.min_value is not None else 1)
        high = min(float(field.max_value if field.max_value is not None else 500), low + 800)
        return round(rng.uniform(low, high), 2)
    if kind == FormField.Type.DATE:
        return (today - dt.timedelta(days=rng.randint(0, 60))).isoformat()
    if kind == FormField.Type.CHOICE:
        return rng.choice(codes)
    if kind == FormField.Type.MULTI_CHOICE:
        return sorted(rng.sample(codes, rng.randint(1, len(codes))))
    if kind == FormField.Type.YES_NO:
        return rng.random() < 0.3
    return None  # a person: left for the requester to name


def _answers(forms: dict, category, sub, index: int, today: dt.date) -> dict:
    """Answers to the classification's request form. Drawn from a stream of their own, so
    the tickets themselves are the same with or without forms."""
    key = (category.pk, sub.pk if sub else None)
    if key not in forms:
        forms[key] = request_forms.form_for(*key)
    return sample_answers(forms[key], random.Random(f"{SEED}-form-{index}"), today)


def sample_answers(form: request_forms.RequestForm, rng: random.Random, today: dt.date) -> dict:
    """Believable answers to every required field of `form`, and to some optional ones."""
    answers = {f.key: _sample(f, rng, today) for f in form.fields}
    return {k: v for k, v in answers.items() if v is not None}


def _load(users: dict[str, User], rng: random.Random) -> None:
    categories = list(
        Category.objects.active()
        .filter(group__name__in=list(GROUP_WEIGHTS), group__is_active=True)
        .select_related("group")
        .prefetch_related("subcategories")
    )
    by_group: dict[str, list[Category]] = {}
    for category in categories:
        by_group.setdefault(category.group.name, []).append(category)
    groups = [name for name in GROUP_WEIGHTS if name in by_group]
    requesters = [(users[email], weight) for email, weight in REQUESTERS if email in users]
    admin = users.get("admin@example.com") or User.objects.filter(is_staff=True).first()
    spoc = users.get("spoc@example.com")
    teams = list(Team.objects.active())
    # team id → its (first) lead, who sometimes takes a ticket of the team themselves.
    leads: dict[int, User] = {}
    for member in (
        TeamMember.objects.filter(role=TeamMember.Role.LEAD, is_active=True, team__in=teams)
        .select_related("user")
        .order_by("id")
    ):
        leads.setdefault(member.team_id, member.user)
    # group id → its first SPOC, who works the tickets no team is mapped to.
    group_spocs = {
        group.pk: group.spocs.order_by("id").first()
        for group in BusinessUnitGroup.objects.filter(name__in=groups)
    }
    now = timezone.now()
    # Oldest first, so ticket numbers follow creation times as they do in real life. One
    # ticket per equal slice of the three months, at a random moment in it: an even flow
    # of a few a day, as the analytics' "created" chart should show. (Ages drawn as
    # 90 * random() ** 2 piled 15 % of the tickets into the last two days.) Recent
    # tickets are still mostly open because `_target_status` depends on age.
    ages = [DAYS * (COUNT - index - rng.random()) / COUNT for index in range(COUNT)]
    forms: dict = {}
    for index, age_days in enumerate(ages):
        group = rng.choices(groups, weights=[GROUP_WEIGHTS[g] for g in groups])[0]
        options = by_group[group]
        category = rng.choices(
            options, weights=[CATEGORY_WEIGHTS.get(c.name, 10) for c in options]
        )[0]
        subs = [s for s in category.subcategories.all() if s.is_active]
        sub = rng.choice(subs) if subs and rng.random() < 0.9 else None
        requester = rng.choices([u for u, _ in requesters], weights=[w for _, w in requesters])[0]
        title = rng.choice(TITLES.get(category.name, ["Question about {sub}"])).format(
            sub=sub.name if sub else category.name
        )
        ticket = services.ticket_create(
            requester=requester,
            title=title,
            description=rng.choice(DESCRIPTIONS),
            group=category.group,
            category=category,
            subcategory=sub,
            idempotency_key=_key(index),
            form_values=_answers(forms, category, sub, index, now.date()),
        )
        target = _target_status(age_days, rng)
        worker = ticket.assignee or group_spocs.get(ticket.group_id) or admin
        try:
            _work(
                ticket,
                target,
                requester,
                worker,
                rng,
                lead=leads.get(ticket.team_id) if ticket.team_id is not None else None,
                spoc=spoc,
                teams=teams,
            )
        except TicketError as error:  # a scenario the rules refuse: keep the ticket as is
            log.info("Demo ticket %s stopped early: %s", ticket.number, error.message)
        _redate(ticket, now - dt.timedelta(days=age_days), now, rng)
    _raise_waiting_unmapped(categories, requesters, ages[-1], now, rng)


def _raise_waiting_unmapped(categories, requesters, last_age: float, now, rng) -> None:
    """The newest tickets: requests in the catalog demo's one unmapped category, still
    waiting for their SPOC, so the SPOC's "No team (unmapped)" figure has something."""
    from portal.catalog.demo import GAP

    gap = next((c for c in categories if (c.group.name, c.name) == GAP), None)
    if gap is None:
        return
    for n, title in enumerate(WAITING_UNMAPPED):
        ticket = services.ticket_create(
            requester=requesters[n % len(requesters)][0],
            title=title,
            description=rng.choice(DESCRIPTIONS),
            group=gap.group,
            category=gap,
            subcategory=None,
            idempotency_key=_key(COUNT + n),
        )
        # Younger than the last of the others, so numbers still follow creation times.
        _redate(ticket, now - dt.timedelta(days=last_age * (1 - (n + 1) / 3)), now, rng)


def _target_status(age_days: float, rng: random.Random) -> str:
    """Recent tickets are mostly still open; old ones mostly finished."""
    if age_days < 2:
        weights = {Status.NEW: 50, Status.IN_PROGRESS: 35, Status.ON_HOLD: 10, Status.RESOLVED: 5}
    elif age_days < 14:
        weights = STATUS_WEIGHTS
    else:
        weights = {Status.RESOLVED: 15, Status.CLOSED: 60, Status.CANCELLED: 15, Status.ON_HOLD: 5,
                   Status.IN_PROGRESS: 5}  # fmt: skip
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _work(ticket, target, requester, worker, rng, *, lead, spoc, teams):
    """Walk the ticket to `target` as the people involved would."""
    if rng.random() < 0.2:
        services.comment_add(actor=requester, ticket=ticket, body=rng.choice(REQUESTER_REPLIES))
    if target == Status.NEW:
        return
    if target == Status.CANCELLED:
        services.comment_add(actor=requester, ticket=ticket, body="No longer needed, sorry.")
        services.ticket_change_status(
            actor=requester, ticket=ticket, status=Status.CANCELLED, reason="Raised by mistake"
        )
        return
    if lead and ticket.assignee_id and ticket.assignee_id != lead.pk and rng.random() < 0.15:
        services.ticket_assign(
            actor=lead, ticket=ticket, assignee=lead, reason="Taking this one myself."
        )
        worker = lead
    if spoc and ticket.group.name == "IT" and rng.random() < 0.05:
        other = [t for t in teams if t.pk != ticket.team_id and t.name.startswith("IT")]
        if other:
            services.ticket_move_team(
                actor=spoc,
                ticket=ticket,
                team=rng.choice(other),
                reason="Needs the specialists.",
            )
            ticket.refresh_from_db()
            worker = ticket.assignee or spoc
    services.ticket_change_status(actor=worker, ticket=ticket, status=Status.IN_PROGRESS)
    services.comment_add(actor=worker, ticket=ticket, body=rng.choice(WORKER_REPLIES))
    if rng.random() < 0.4:
        services.comment_add(
            actor=worker, ticket=ticket, body=rng.choice(INTERNAL_NOTES), internal=True
        )
    if target == Status.IN_PROGRESS:
        return
    if target == Status.ON_HOLD:
        services.ticket_change_status(
            actor=worker, ticket=ticket, status=Status.ON_HOLD, reason="Waiting for the requester"
        )
        return
    services.comment_add(actor=requester, ticket=ticket, body=rng.choice(REQUESTER_REPLIES))
    services.ticket_change_status(
        actor=worker, ticket=ticket, status=Status.RESOLVED, reason="Fixed."
    )
    if rng.random() < REOPEN_SHARE:
        # Not fixed after all: the requester reopens it (allowed within the reopen window,
        # and re-dating keeps these steps hours apart), the agent fixes it properly.
        services.comment_add(actor=requester, ticket=ticket, body=REOPEN_REPLY)
        services.ticket_change_status(
            actor=requester, ticket=ticket, status=Status.IN_PROGRESS, reason="Not fixed."
        )
        services.comment_add(actor=worker, ticket=ticket, body=rng.choice(WORKER_REPLIES))
        services.ticket_change_status(
            actor=worker, ticket=ticket, status=Status.RESOLVED, reason="Fixed, properly."
        )
    if target == Status.CLOSED:
        services.ticket_change_status(actor=requester, ticket=ticket, status=Status.CLOSED)


def _redate(ticket: Ticket, start: dt.datetime, now: dt.datetime, rng: random.Random) -> None:
    """Spread the ticket's history from `start`: each moment the services stamped moves to
    a believable later time (minutes to a day apart), never past `now`."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    events = list(TicketEvent.objects.filter(ticket=ticket))
    comments = list(Comment.objects.filter(ticket=ticket))
    stamps = sorted({ticket.created_at} | {e.created_at for e in events} | {
        c.created_at for c in comments
    })  # fmt: skip
    gaps = [dt.timedelta(minutes=rng.uniform(5, 60 * 24)) for _ in stamps[1:]]
    room = (now - start) * 0.95
    total = sum(gaps, dt.timedelta())
    if total > room:  # a young ticket's history is squeezed into its short life
        gaps = [gap * (room / total) for gap in gaps]
    moved, current = {}, start
    for stamp, gap in zip(stamps, [dt.timedelta(), *gaps], strict=True):
        current += gap
        moved[stamp] = current
    for event in events:
        event.created_at = moved[event.created_at]
    for comment in comments:
        comment.created_at = moved[comment.created_at]
    TicketEvent.objects.bulk_update(events, ["created_at"])
    Comment.objects.bulk_update(comments, ["created_at"])
    fields = ["created_at", "updated_at", "first_response_at", "resolved_at", "closed_at"]
    Ticket.objects.filter(pk=ticket.pk).update(
        **{
            name: moved.get(getattr(ticket, name), getattr(ticket, name))
            for name in fields
            if getattr(ticket, name) is not None
        }
    )
    _redate_sla(ticket.pk, moved, now)


def _redate_sla(pk: int, moved: dict, now: dt.datetime) -> None:
    """Move the SLA pauses with the history, recompute the targets from the new creation
    time, and mark lines already crossed as told (a fresh demo is not a flood of
    escalations about tickets that were late weeks ago)."""
    from portal.tickets import sla

    ticket = Ticket.objects.get(pk=pk)
    if ticket.sla_paused_at is not None:
        ticket.sla_paused_at = moved.get(ticket.sla_paused_at, ticket.sla_paused_at)
    ticket.sla_pauses = [
        [moved.get(s, s).isoformat() for s in map(dt.datetime.fromisoformat, pair)]
        for pair in ticket.sla_pauses
    ]
    sla.recompute(ticket)
    markers = []
    for target in sla.TARGETS:
        for line, marker in ((target.at_risk, target.at_risk_notified),
                             (target.due, target.breached_notified)):  # fmt: skip
            if getattr(ticket, line) is not None and getattr(ticket, line) <= now:
                setattr(ticket, marker, getattr(ticket, line))
                markers.append(marker)
    ticket.save(update_fields=["sla_paused_at", "sla_pauses", *sla.SLA_FIELDS[1:], "sla_policy",
                               *markers])  # fmt: skip
