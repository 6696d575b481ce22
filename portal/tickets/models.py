"""Tickets, their comments and their history.

Writes go through `services.py`, reads through `access.py`; nothing else touches these
models directly (see docs/tickets.md).

Index choices (designed for 1M+ tickets, 3M+ comments; verified with EXPLAIN in bench/):
every list is "tickets in some scope, newest activity first, next page after a cursor".
Each scope a saved view or an access rule uses gets one composite btree index
`(scope column, updated_at, id)`: PostgreSQL walks it backwards to read exactly one page
in `-updated_at, -id` order, and the trailing `id` makes the keyset cursor
`(updated_at, id) < (…, …)` a range scan instead of a sort. Filters that are not in an
index (status, priority, category…) are applied while walking; they are cheap because a
page only needs 25 matches. We add no index per filter column: each costs every write.
"""

import datetime as dt
import re
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.attachments.sniff import INLINE_SAFE_TYPES
from portal.catalog.models import BusinessUnitGroup, Category, Priority, Subcategory, Team
from portal.lib.code_lookups import ChoicesIn
from portal.sla.models import SlaPolicy

if TYPE_CHECKING:
    from portal.accounts.types import Visitor

NUMBER_PREFIX = "TKT-"
_NUMBER_RE = re.compile(r"^\s*(?:TKT-?)?0*(\d{1,12})\s*$", re.IGNORECASE)


def format_number(pk: int) -> str:
    return f"{NUMBER_PREFIX}{pk:06d}"


def parse_number(text: str) -> int | None:
    """`TKT-000123`, `tkt-123` or `123` → 123; anything else → None."""
    match = _NUMBER_RE.match(text or "")
    if not match:
        return None
    value = int(match.group(1))
    # Beyond a bigint would make the database raise; no such ticket exists anyway.
    return value if 0 < value < 2**63 else None


class Status(models.TextChoices):
    # Raised under a classification that needs approval: nobody works it (no team, no
    # assignee, no SLA clock) until its approvers say yes (portal/approvals).
    AWAITING = "awaiting", "Awaiting approval"
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# Tickets someone still has to work on: they count towards an agent's load.
OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)

# What the analytics scope and filters test; its covering indexes end with these.
ANALYTICS_SCOPE = ["group", "category", "team", "assignee", "priority"]
# Sorts after every real due time (see Ticket.sla_due_sort_at).
NO_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.URGENT: 4}


class TicketQuerySet(models.QuerySet["Ticket"]):
    """`Ticket.objects.visible_to(user)`: the access rules as a queryset verb.

    The rules themselves live in portal/tickets/access.py (which imports this module,
    hence the import inside the method).
    """

    def visible_to(self, user: "Visitor") -> Self:
        from portal.tickets import access

        return access.restrict_tickets(self, user)


class TicketPartQuerySet[M: "Comment | TicketEvent | Attachment"](models.QuerySet[M]):
    """Comments, history events and files of a ticket, through the access rules:
    `Comment.objects.visible_to(user, ticket)` keeps internal rows for the people working
    the ticket and returns nothing to an outsider; `.public()` keeps what a requester sees."""

    def visible_to(self, user: "Visitor", ticket: "Ticket") -> Self:
        from portal.tickets import access

        return access.restrict_part(self.filter(ticket=ticket), user, ticket)

    def public(self) -> Self:
        from portal.tickets import access

        return access.public_only(self)


class Ticket(models.Model):
    """One request from an employee, classified group → category → subcategory.

    The human number (`TKT-000123`) is the primary key formatted: the database hands out
    primary keys atomically on SQLite and PostgreSQL alike, so numbers are unique under any
    concurrency with no sequence table to lock (a locked counter row would serialise every
    ticket creation). Numbers may have gaps after a rolled-back insert; nobody relies on
    them being contiguous.

    `version` goes up on every change a person could be editing against; services compare
    it with the version the editor saw (optimistic concurrency, see `ticket_update`).

    `idempotency_key` is a random value the new-ticket form carries: a second submission
    of the same form (double click, retried request) finds the first ticket instead of
    creating another. Unique per requester, so one user's key never blocks another's.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(max_length=20_000)
    # Single-column FK indexes are left out where a composite index below starts with the
    # same column: it serves the same lookups and each index costs every write.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        db_index=False,
    )
    group = models.ForeignKey(
        BusinessUnitGroup, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    # "Highest priority first" walks an index on this instead of sorting every match by a
    # CASE over `priority` (≈190 ms at 1M tickets for a filtered list). Kept by the
    # database, so no code path (services, bulk updates, imports) can forget it.
    priority_rank = models.GeneratedField(
        expression=models.Case(
            *[models.When(priority=p, then=models.Value(n)) for p, n in PRIORITY_RANK.items()],
            default=models.Value(0),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)
    # Answers to the classification's request form, by field code (catalog.request_forms
    # validates them; codes and JSON-native values, never labels).
    form_values = models.JSONField("request form values", default=dict, blank=True)
    # Merging (merge_services.py): the ticket this one was merged into. A merged ticket is
    # closed; its page points here and email replies to it land here (portal.mailin).
    # SET_NULL: retention may delete a survivor before its duplicates; they stay closed.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        db_index=False,  # the partial index in Meta holds only merged tickets
    )
    # Parent/child (merge_services.py): a parent is not resolved while a child is open,
    # unless the person resolving it says so (recorded in the history).
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        db_index=False,  # the partial index in Meta holds only children
    )
    # People who asked to hear about status changes and public comments.
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets"
    )

    # --- Service levels (see docs/sla.md and tickets/sla.py) ---------------------------
    # Computed by the services from sla.selectors.policy_for and stored, so lists, the
    # ticket page and the escalation task read them without business-time arithmetic.
    # SET_NULL: deleting a policy keeps the tickets and their due times; the name stays
    # for display, and the next recompute finds whichever policy applies then.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only the background recompute looks tickets up by policy
    )
    # Empty means "no SLA" (no policy applied, or the ticket was cancelled).
    sla_policy_name = models.CharField("SLA policy", max_length=120, blank=True)
    sla_response_due_at = models.DateTimeField("first response due", null=True, blank=True)
    sla_response_at_risk_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_due_at = models.DateTimeField("resolution due", null=True, blank=True)
    sla_resolution_at_risk_at = models.DateTimeField(null=True, blank=True)
    # Pause bookkeeping: the open pause (On hold, or Resolved for the resolution clock)
    # and the closed ones as [[start, end], ...] ISO instants. Intervals rather than an
    # accumulated duration because a recompute may move the ticket to another calendar,
    # and business time paused can only be re-measured from the real intervals.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_pauses = models.JSONField(default=list, blank=True)
    # "SLA due soonest" sorts by this: the next due time (first response until answered,
    # then resolution until resolved or closed), or a far-future stand-in when there is
    # none (no SLA, paused, met), which keeps the keyset cursor free of NULLs. Kept by the
    # database from the columns above, so the sort walks an index (see Meta).
    sla_due_sort_at = models.GeneratedField(
        expression=Coalesce(
            models.Case(
                models.When(first_response_at__isnull=True, then=models.F("sla_response_due_at")),
                models.When(
                    resolved_at__isnull=True,
                    closed_at__isnull=True,
                    then=models.F("sla_resolution_due_at"),
                ),
            ),
            models.Value(NO_DUE),
        ),
        output_field=models.DateTimeField(),
        db_persist=True,
    )
    # Exactly-once escalation: the periodic task claims each with a conditional UPDATE
    # (`…_notified_at IS NULL`) and notifies only when it won the claim.
    sla_response_at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    sla_response_breached_notified_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_breached_notified_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"],
                name="ticket_idempotency_unique",
                condition=Q(idempotency_key__isnull=False),
            ),
        ]
        indexes = [
            # "My tickets" and the requester's access scope.
            models.Index(fields=["requester", "updated_at", "id"], name="ticket_requester_upd"),
            # "Assigned to me" and the agent's own-assignment scope.
            models.Index(fields=["assignee", "updated_at", "id"], name="ticket_assignee_upd"),
            # "My team's queue" and the agent/lead scope.
            models.Index(fields=["team", "updated_at", "id"], name="ticket_team_upd"),
            # SPOC scope and "Unassigned in my groups".
            models.Index(fields=["group", "updated_at", "id"], name="ticket_group_upd"),
            # Admin's "All I can see" and any list not narrowed by one of the above.
            models.Index(fields=["updated_at", "id"], name="ticket_updated"),
            # Routing counts each candidate's open tickets on every creation; this partial
            # index holds only open tickets, so it stays small as closed ones pile up.
            models.Index(
                fields=["assignee", "status"],
                name="ticket_open_by_assignee",
                condition=Q(status__in=["new", "in_progress", "on_hold"]),
            ),
            # The dashboard's "my open requests": without it PostgreSQL took the status
            # condition from the index above and read every open ticket (15 → 3.4 ms for
            # an agent at 1M tickets, and no parallel workers).
            models.Index(
                fields=["requester", "status"],
                name="ticket_open_by_requester",
                condition=Q(status__in=["new", "in_progress", "on_hold"]),
            ),
            # The dashboard's "oldest open tickets" (the first five open ones by id in the
            # person's teams, or anywhere for admins): walking the primary key skipped the
            # closed tickets that fill the oldest ids (18,657 rows, 16.7 ms for a lead at 1M
            # tickets); this index holds open ones only (0.1 ms). Open tickets only: small.
            models.Index(
                fields=["id"],
                name="ticket_open_id",
                condition=Q(status__in=["new", "in_progress", "on_hold"]),
            ),
            # Round-robin routing asks, per team member, for the last ticket of this team they
            # were given: one index probe each instead of reading all their tickets.
            models.Index(fields=["assignee", "team", "id"], name="ticket_assignee_team"),
            # Sort "SLA due soonest" over open tickets (see sla_due_sort_at).
            models.Index(
                fields=["sla_due_sort_at", "id"],
                name="ticket_open_sla_due",
                condition=Q(status__in=["new", "in_progress", "on_hold"]),
            ),
            # A survivor lists what was merged into it, a parent its children: both columns
            # are empty for nearly every ticket, so their indexes hold only the few set.
            models.Index(
                fields=["merged_into"],
                name="ticket_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
            models.Index(
                fields=["parent"], name="ticket_parent", condition=Q(parent__isnull=False)
            ),
            # Sort "Highest priority" (see priority_rank).
            models.Index(fields=["priority_rank", "id"], name="ticket_priority_rank"),
            # The dashboard's one aggregate over the open tickets in a scope, grouped per
            # team/group/member, becomes an index-only scan (docs/analytics.md: 210 → 41 ms
            # of SQL for the admin at 1M tickets). Open tickets only, so it stays small.
            # `id` is a key column rather than INCLUDE, which SQLite does not support.
            models.Index(
                fields=[
                    "team",
                    "group",
                    "assignee",
                    "requester",
                    "status",
                    "priority",
                    "created_at",
                    "id",
                ],
                name="ticket_open_cover",
                condition=Q(status__in=["new", "in_progress", "on_hold"]),
            ),
            # The analytics page's direct reads (what its rollup cannot answer exactly:
            # percentiles, age boundaries, SLA compliance), each bounded by the period and
            # ending with the columns its scope and filters test, so they are index-only
            # scans (docs/analytics.md). Created by migration 0010 as plain SQL.
            *(
                models.Index(fields=[*lead, *ANALYTICS_SCOPE], name=name, condition=condition)
                for name, lead, condition in (
                    ("ticket_created_cover", ["created_at", "first_response_at", "status"], None),
                    (
                        "ticket_resolved_cover",
                        ["resolved_at", "created_at", "sla_resolution_due_at", "sla_policy_name"],
                        Q(resolved_at__isnull=False),
                    ),
                    (
                        "ticket_sla_response_met",
                        ["first_response_at", "sla_response_due_at"],
                        Q(sla_policy_name__gt="", first_response_at__isnull=False),
                    ),
                    (
                        "ticket_sla_response_open",
                        ["sla_response_due_at"],
                        Q(
                            sla_policy_name__gt="",
                            status__in=["new", "in_progress", "on_hold"],
                            first_response_at__isnull=True,
                            sla_response_due_at__isnull=False,
                        ),
                    ),
                    (
                        "ticket_sla_resolution_open",
                        ["sla_resolution_due_at"],
                        Q(
                            sla_policy_name__gt="",
                            status__in=["new", "in_progress", "on_hold"],
                            resolved_at__isnull=True,
                            sla_resolution_due_at__isnull=False,
                        ),
                    ),
                )
            ),
            # Escalation (tasks.escalate_sla) asks, every minute, "which open tickets crossed
            # a line they have not been told about?". One partial index per (target, line)
            # holds exactly the tickets still waiting for that notice: a row leaves it when
            # the notice is claimed, the ticket is answered/resolved, or it closes. So the
            # index stays the size of the open, un-notified backlog, and the query is a range
            # scan `<= now` on it, not a scan of all tickets. Lists sort and filter by SLA
            # state while walking their scope index (like status), so they get none.
            *(
                models.Index(
                    fields=[column],
                    name=name,
                    condition=Q(
                        status__in=["new", "in_progress", "on_hold"],
                        **{f"{column}__isnull": False, f"{marker}__isnull": True},
                        **extra,
                    ),
                )
                for name, column, marker, extra in (
                    (
                        "ticket_sla_response_risk",
                        "sla_response_at_risk_at",
                        "sla_response_at_risk_notified_at",
                        {"first_response_at__isnull": True},
                    ),
                    (
                        "ticket_sla_response_breach",
                        "sla_response_due_at",
                        "sla_response_breached_notified_at",
                        {"first_response_at__isnull": True},
                    ),
                    (
                        "ticket_sla_resolution_risk",
                        "sla_resolution_at_risk_at",
                        "sla_resolution_at_risk_notified_at",
                        {},
                    ),
                    (
                        "ticket_sla_resolution_breach",
                        "sla_resolution_due_at",
                        "sla_resolution_breached_notified_at",
                        {},
                    ),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("ticket-detail", args=[self.number])

    @property
    def number(self) -> str:
        return format_number(self.pk) if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# `status__in` with the status codes written into the SQL: the partial indexes of open
# tickets above then serve a plan made before the values are known (lib/code_lookups.py).
Ticket._meta.get_field("status").register_lookup(ChoicesIn)


class Comment(models.Model):
    """A message on a ticket. Internal comments are for the people working the ticket only.

    Bodies are Markdown, stored as typed and sanitised when rendered. `idempotency_key` is
    a random value the comment form (or an API client) sends: the same comment sent again
    (a resend after a lost answer, a double click) returns the first one; unique per author
    in the database, as for tickets.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_comments"
    )
    body = models.TextField(max_length=20_000)
    is_internal = models.BooleanField("internal", default=False)
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The ticket page reads one ticket's comments in order.
            models.Index(fields=["ticket", "created_at", "id"], name="comment_ticket_time"),
        ]
        constraints = [
            # Partial: comments written without a key (email in, the merge's note, older
            # rows) take no room in it.
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                name="comment_idempotency_unique",
                condition=Q(idempotency_key__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.ticket_id}"


class TicketEvent(models.Model):
    """One change to a ticket: who, what (field, old → new), why and when.

    Old and new values are stored as the text people read (names, labels), so the timeline
    needs no joins and still reads right after a team or category is renamed or deleted.
    `version` is the ticket's version after the change: a stale editor is shown the events
    newer than the version they saw. `is_internal` hides events about internal comments
    from requesters.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        ROUTED = "routed", "Routed"
        ASSIGNED = "assigned", "Assigned"
        # Nobody in the team could take it: new_value names who was told (routing.py).
        WAITING = "waiting", "Waiting for"
        TEAM = "team", "Moved team"
        STATUS = "status", "Status changed"
        EDITED = "edited", "Edited"
        COMMENTED = "commented", "Commented"
        ATTACHED = "attached", "Attached files"
        # The portal reminded the requester of a ticket On hold (autoclose_services.py).
        REMINDED = "reminded", "Reminded"
        # An approval step asked, decided or reminded (portal/approvals); new_value is
        # the code (requested/approved/rejected/reminded), old_value names the step.
        APPROVAL = "approval", "Approval"
        # A merge (merge_services.py): on the merged ticket `new_value` names the survivor,
        # on the survivor `old_value` names the merged ticket.
        MERGED = "merged", "Merged"
        # Parent/child (merge_services.py): `field` "parent", old → new parent number.
        PARENT = "parent", "Parent changed"

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted (routing).",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    is_internal = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field} on {self.ticket_id}"


class Attachment(models.Model):
    """A file on a ticket, optionally with one of its comments.

    The bytes live in `STORAGES["attachments"]` under `storage_key`
    (`tickets/{ticket_id}/{timestamp}-{random}-{safe_name}`); nothing serves that storage
    directly: downloads go through the ticket's access rules. An attachment of an internal
    comment is as internal as the comment.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(max_length=255, help_text="As uploaded, for display.")
    storage_key = models.CharField(max_length=400, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, help_text="Detected from the bytes.")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} on {self.ticket_id}"

    @property
    def is_internal(self) -> bool:
        comment = self.comment  # no query when there is none (comment_id is None)
        return comment is not None and comment.is_internal

    @property
    def media_type(self) -> str:
        """The type without its parameters: "text/plain" for "text/plain; charset=utf-8"."""
        return self.content_type.split(";", 1)[0]

    @property
    def is_image(self) -> bool:
        """Shown as a thumbnail (only types browsers decode as images and nothing else)."""
        return self.media_type in INLINE_SAFE_TYPES
