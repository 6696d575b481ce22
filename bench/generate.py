"""Load a realistic organisation and BENCH_TICKETS tickets into a PostgreSQL database of its own.

    BENCH_TICKETS=100000 .venv/bin/python bench/generate.py [--reuse] [--seed 1]

Creates `portal_bench_<tickets>` on the server of DATABASE_URL (or BENCH_DATABASE_URL, else
postgres@127.0.0.1), drops it first if it exists, builds the schema with the project's own
migrations, then loads with COPY:
  4 business unit groups, 40 categories, 150 subcategories, 25 teams, 500 agents (some leads,
  some in two teams), 8 SPOCs, 2 admins, 50,000 requesters (all with one known password),
  classification mappings (two categories left unmapped: their tickets wait for the SPOC),
  two years of tickets (about 15% open, 30% resolved, 50% closed, 5% cancelled; Zipf-like
  categories; timestamps in lifecycle order), about three comments per ticket (a fifth of the
  agents' ones internal) and the history events the services would have written;
  service levels (bench/generate_sla.py): the demo's calendar (UK office hours, bank
  holidays of every year spanned) and policies (Standard; Faster for IT) plus a 24x7
  override for IT / Security, and on every ticket what portal/tickets/sla.py stores: policy,
  due and at-risk times from created_at in exact business time (a precomputed table of the
  calendar's working pieces, checked against business_time before the load), the pause of
  on-hold, resolved, closed and cancelled tickets (lines not reached before an on-hold pause
  unknown), and the escalation markers of every line crossed while pending (except the
  last ten minutes': the task's backlog);
  notifications (bench/generate_notifications.py): for every event of the last 90 days the
  people tickets/notify.py tells (creation, status, comments, SLA at risk / breached), mostly
  read, the bench personas' newest three unread; sent outbox rows for the last 3 days;
  attachment rows on 8% of tickets (with the ticket or a comment, with their "attached"
  events; metadata only, no bytes), and four real files stored through the attachments
  storage on the last showcase ticket (`attach_showcase_files`), which the admin persona
  watches;
  request forms (bench/generate_forms.py): fields on every category (its group's questions)
  and on the first subcategory of each, and the answers of every ticket of the last year
  and of the showcase tickets, as the portal stores them (a sample is checked with its
  validator before the tickets are loaded).
Table and column names come from the models' `_meta`: a renamed column or a new required
field stops the load with a message instead of producing a silently different database.

Indexes (except those behind constraints) and foreign keys of the ticket tables are dropped
before the load and recreated after it (the foreign keys are re-validated), then the
sequences are moved past the loaded ids (new tickets get the next number), and the tables are
vacuumed and analysed. The full-text GIN indexes are expression indexes (see
portal/tickets/search.py), so rebuilding them is all "populating the search" takes.

Only the showcase files exist in the storage: downloading any other attachment finds no
object. Their keys are kept in `bench_info` and deleted when the database is loaded again;
run.py uses the same storage as the load (R2_*, else var/bench/<database>/, which
common.production_env keeps apart from var/ so a `make run` worker's orphan clean-up does not
delete them; ci_check.py removes the folder with the database). Adding the service levels,
notifications and attachments made the load about 1.7 times as long (100k:
51 s on a loaded 2-core machine).

`--reuse` keeps an existing complete database of the same size and seed. What `run.py` needs
(who to sign in as, which tickets to open, which words to search) is stored in `bench_info`.
"""

import argparse
import bisect
import datetime as dt
import itertools
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    common,
    generate_forms,
    generate_notifications,
    generate_sla,
    vocabulary,
)
from bench.common import stamp  # noqa: E402

DAY = 86_400.0
YEARS = 2
REQUESTERS = 50_000
AGENTS_PER_TEAM = 20
POWER_USERS = 100  # heavy requesters (assistants, team secretaries) raise 2% of tickets
TEAMS = {
    "IT": [
        "Service Desk", "End User Computing", "Network Operations", "Identity and Access",
        "Print Services", "Mobile and Telephony", "Business Applications",
        "Collaboration Platforms", "Software Licensing", "Security Operations",
    ],
    "HR": ["HR Payroll", "HR People Services", "HR Talent", "HR Benefits", "HR Mobility"],
    "FIN": ["Accounts Payable", "Procurement", "Financial Control", "Treasury", "Tax and Audit"],
    "FAC": [
        "Workplace Services", "Building Maintenance", "Security and Reception",
        "Catering and Cleaning", "Logistics and Mail",
    ],
}  # fmt: skip
GROUP_SHARE = {"IT": 0.50, "HR": 0.20, "FIN": 0.15, "FAC": 0.15}
UNMAPPED = {("FIN", "Audit"), ("FAC", "Moves and mail")}
FIRST = ["Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara",
         "Umar", "Vera", "Wei", "Xena", "Yusuf", "Zoe"]  # fmt: skip
LAST = ["Smith", "Garcia", "Müller", "Rossi", "Kowalski", "Novak", "Dubois", "Silva", "Khan",
        "Tanaka", "Ivanova", "Jensen", "Okafor", "Murphy", "Costa", "Larsen", "Nagy", "Haddad",
        "Becker", "Moreau", "Patel", "Lindqvist", "Horvat", "Santos"]  # fmt: skip
PRIORITIES = (("low", 0.25), ("medium", 0.50), ("high", 0.20), ("urgent", 0.05))
OPEN_SHARE = 0.15
CLOSED_MIX = (("resolved", 0.30), ("closed", 0.50), ("cancelled", 0.05))
OPEN_MIX = (("new", 0.33), ("in_progress", 0.47), ("on_hold", 0.20))
COMMENTS_BY_STATUS = {
    "new": (0, 0, 1, 1, 2),
    "in_progress": (1, 2, 3, 4, 5),
    "on_hold": (2, 3, 4, 5),
    "resolved": (2, 3, 4, 5),
    "closed": (2, 3, 3, 4, 5),
    "cancelled": (0, 1),
}
ROUTED_REASON = "Classification mapping → team."
UNROUTED_REASON = "No team is mapped; waiting for the SPOC."
INTERNAL_REASON = "Internal comment."
RARE_CODE = "E4242"  # in every showcase ticket, and by chance in about 1 ticket in 30,000
RARE_SENTENCE = f" Error code {RARE_CODE}."
WORKER_PERSONAS = ("agent", "lead", "spoc", "admin")
SHOWCASE = 12  # tickets every bench persona can see, each with exactly 20 comments
SHOWCASE_COMMENTS = 20
CHUNK = 20_000
ATTACHMENT_SHARE = 0.08  # tickets with files (metadata rows only, see attach_showcase_files)
FILE_NAMES = {
    "image/png": ["screenshot.png", "error-dialog.png", "photo.png"],
    "application/pdf": ["invoice.pdf", "quote.pdf", "form.pdf", "manual.pdf"],
    "text/plain; charset=utf-8": ["install.log", "output.txt", "event-log.txt"],
    "image/jpeg": ["photo.jpg", "IMG_2041.jpg"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["list.xlsx"],
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Writing rows: names from the models, loud on schema drift -----------------------------


class Table:
    """COPY rows into a model's table; rows give `fields` (attnames) in order.

    Concrete fields the rows leave out are filled with a constant default or NULL; a field
    with neither (a new required column) stops the load, as does a field that is gone.
    """

    def __init__(self, model, fields: list[str]):
        meta = model._meta
        # Generated columns (Ticket.priority_rank) are computed by the database on COPY.
        concrete = {f.attname: f for f in meta.concrete_fields if not f.generated}
        gone = [name for name in fields if name not in concrete]
        if gone:
            raise SystemExit(f"{meta.label} has no field(s) {gone}: update bench/generate.py")
        self.extra = []
        for name, field in concrete.items():
            if name in fields or (
                field.primary_key and field.get_internal_type().endswith("AutoField")
            ):
                continue  # an auto primary key left out comes from its sequence
            if field.has_default() and not callable(field.default):
                self.extra.append((field.column, field.get_default()))
            elif field.has_default() and field.get_internal_type() == "JSONField":
                # COPY's text format takes the JSON text of the default ([] for a list).
                self.extra.append((field.column, json.dumps(field.get_default())))
            elif field.blank and field.empty_strings_allowed and not field.null:
                self.extra.append((field.column, ""))  # e.g. a ticket with no SLA policy
            elif field.null:
                self.extra.append((field.column, None))
            else:
                raise SystemExit(
                    f"{meta.label}.{name} is required and bench/generate.py does not fill it"
                )
        self.model = model
        self.name = meta.db_table
        self.columns = [concrete[name].column for name in fields] + [c for c, _ in self.extra]
        self.tail = tuple(value for _, value in self.extra)

    def copy(self, cursor, rows) -> int:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        count = 0
        tail = self.tail
        with cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row + tail if tail else row)
                count += 1
        return count


# --- Database lifecycle --------------------------------------------------------------------


def recreate_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = common.conninfo(common.database_url("postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def existing_info(url: str) -> dict | None:
    import psycopg

    try:
        with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
            rows = conn.execute("SELECT key, value FROM bench_info").fetchall()
    except psycopg.Error:
        return None
    info = dict(rows)
    return info if info.get("complete") else None


def migrations_current(url: str) -> bool:
    """True when every migration of the code is applied to the database at `url`."""
    common.setup_django(url)
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    connection.close()
    return not plan


def drop_for_load(cursor, tables: list[str]) -> list[str]:
    """Drop the foreign keys and plain indexes of `tables`; return the statements to restore."""
    restore = []
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
        restore.insert(0, definition)  # indexes first, then the foreign keys
    return restore


def reset_sequence(cursor, model) -> None:
    """Point the primary key's sequence past the highest id loaded."""
    from psycopg import sql

    table, pk = model._meta.db_table, model._meta.pk.column
    cursor.execute(
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, %s), "
            "coalesce((SELECT max({}) FROM {}), 0) + 1, false)"
        ).format(sql.Identifier(pk), sql.Identifier(table)),
        [table, pk],
    )


# --- The organisation ----------------------------------------------------------------------


class Org:
    """Ids and names of everything tickets point at, built and loaded in one go."""

    def __init__(self, rng: random.Random, now: float):
        from django.contrib.auth.hashers import make_password

        self.rng, self.now = rng, now
        self.password_hash = make_password(common.PASSWORD)
        self.users = []  # (id, email, full_name, is_staff)
        self.groups, self.categories, self.subcategories = [], [], []
        self.teams, self.members, self.spocs, self.mappings = [], [], [], []

    def _user(self, email: str, *, staff: bool = False) -> int:
        uid = len(self.users) + 1
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        self.users.append((uid, email, name, staff))
        return uid

    def build(self) -> None:
        self.admins = [self._user(f"admin{n}@bench.example.com", staff=True) for n in (1, 2)]
        self.spoc_ids = [self._user(f"spoc{n}@bench.example.com") for n in range(1, 9)]
        agent_count = AGENTS_PER_TEAM * sum(len(t) for t in TEAMS.values())
        self.agent_ids = [
            self._user(f"agent{n:03d}@bench.example.com") for n in range(1, agent_count + 1)
        ]
        self.requester_ids = [
            self._user(f"requester{n:05d}@bench.example.com") for n in range(1, REQUESTERS + 1)
        ]
        self.names = {uid: name for uid, _, name, _ in self.users}

        # Groups, categories (weights: the group's share, Zipf inside the group), subcategories.
        extra_slots = 150 - 3 * 40
        cat_weights = []
        for code, group in vocabulary.GROUPS.items():
            gid = len(self.groups) + 1
            self.groups.append((gid, group["name"], code))
            harmonic = sum(1 / (r + 1) for r in range(len(group["categories"])))
            for rank, (name, objects) in enumerate(group["categories"]):
                cid = len(self.categories) + 1
                self.categories.append((cid, gid, name, objects, code))
                cat_weights.append(GROUP_SHARE[code] / (rank + 1) / harmonic)
        order = sorted(range(len(self.categories)), key=lambda i: -cat_weights[i])
        four = set()
        for i in order:
            if len(four) < extra_slots and len(self.categories[i][3]) >= 4:
                four.add(i)
        if len(four) != extra_slots:
            raise SystemExit("vocabulary.py needs more categories with four subjects")
        self.subs_of = {}
        for i, (cid, _, _, objects, _) in enumerate(self.categories):
            subs = []
            for obj in objects[: 4 if i in four else 3]:
                sid = len(self.subcategories) + 1
                self.subcategories.append((sid, cid, obj[0].upper() + obj[1:]))
                subs.append(sid)
            self.subs_of[cid] = subs
        self.cat_cum = list(itertools.accumulate(cat_weights))

        # Teams and members: 20 agents each; one lead per team (two in every other team);
        # one agent in ten also works in another team of the same group.
        agents = iter(self.agent_ids)
        self.team_of_group, self.members_of = {}, {}
        for code, names in TEAMS.items():
            gid = next(g[0] for g in self.groups if g[2] == code)
            for index, name in enumerate(names):
                tid = len(self.teams) + 1
                slug = name.lower().replace(" ", "-")
                self.teams.append((tid, name, f"{slug}@bench.example.com"))
                self.team_of_group.setdefault(gid, []).append(tid)
                members = [next(agents) for _ in range(AGENTS_PER_TEAM)]
                self.members_of[tid] = list(members)
                for position, uid in enumerate(members):
                    lead = position == 0 or (position == 1 and index % 2 == 0)
                    self.members.append((tid, uid, "lead" if lead else "member"))
        for tids in self.team_of_group.values():
            for tid in tids:
                for uid in self.members_of[tid][2:4]:  # two per team → about 1 in 10
                    other = tids[(tids.index(tid) + 1) % len(tids)]
                    if other != tid:
                        self.members.append((other, uid, "member"))
                        self.members_of[other].append(uid)
        for gid in self.team_of_group:
            self.spocs += [(gid, self.spoc_ids[2 * (gid - 1)]), (gid, self.spoc_ids[2 * gid - 1])]

        # Mappings: IT category i → IT team i; other groups two categories per team; the
        # first category's last subcategory goes to the group's second team.
        self.team_for = {}  # (category id, subcategory id or None) → team id
        per_group_index = {}
        for cid, gid, name, _, code in self.categories:
            index = per_group_index.get(gid, 0)
            per_group_index[gid] = index + 1
            if (code, name) in UNMAPPED:
                continue
            tids = self.team_of_group[gid]
            tid = tids[index] if code == "IT" else tids[index // 2]
            priority = "high" if name in {"Security", "Payroll"} else ""
            self.mappings.append((cid, None, tid, priority))
            self.team_for[(cid, None)] = tid
            if index == 0:
                sid = self.subs_of[cid][-1]
                self.mappings.append((cid, sid, tids[1], ""))
                self.team_for[(cid, sid)] = tids[1]
        self.group_of_cat = {c[0]: c[1] for c in self.categories}

        # The people run.py signs in as: the busiest team's lead and a plain member, the
        # SPOC of its group, an admin, and a heavy requester.
        top_cat = order[0] + 1
        self.bench_team = self.team_for[(top_cat, None)]
        self.top_category = top_cat
        team_members = self.members_of[self.bench_team]
        self.personas = {
            "requester": self.requester_ids[0],
            "agent": team_members[2],
            "lead": team_members[0],
            "spoc": next(uid for gid, uid in self.spocs if gid == self.group_of_cat[top_cat]),
            "admin": self.admins[0],
        }
        self.power_users = self.requester_ids[:POWER_USERS]
        # Calendars and policies (category beats group beats default, as policy_for).
        self.levels = generate_sla.ServiceLevels(
            self.categories, self.groups, self.now - YEARS * 365 * DAY, self.now
        )

    def load(self, cursor) -> None:
        from portal.accounts.models import User
        from portal.catalog.models import (
            BusinessUnitGroup,
            Category,
            ClassificationMapping,
            Subcategory,
            Team,
            TeamMember,
            name_key,
        )

        now = stamp(self.now - YEARS * 365 * DAY - 30 * DAY)
        Table(
            User,
            ["id", "password", "last_login", "is_superuser", "email", "full_name", "is_active",
             "is_staff", "date_joined"],
        ).copy(
            cursor,
            ((uid, self.password_hash, None, staff, email, name, True, staff, now)
             for uid, email, name, staff in self.users),
        )  # fmt: skip
        named = ["id", "name", "name_key", "is_active", "created_at", "updated_at"]
        Table(BusinessUnitGroup, [*named, "code"]).copy(
            cursor,
            ((gid, name, name_key(name), True, now, now, code) for gid, name, code in self.groups),
        )
        Table(BusinessUnitGroup.spocs.through, ["businessunitgroup_id", "user_id"]).copy(
            cursor, iter(self.spocs)
        )
        Table(Category, [*named, "group_id"]).copy(
            cursor,
            (
                (cid, name, name_key(name), True, now, now, gid)
                for cid, gid, name, _, _ in self.categories
            ),
        )
        Table(Subcategory, [*named, "category_id"]).copy(
            cursor,
            (
                (sid, name, name_key(name), True, now, now, cid)
                for sid, cid, name in self.subcategories
            ),
        )
        Table(Team, [*named, "email"]).copy(
            cursor,
            ((tid, name, name_key(name), True, now, now, email) for tid, name, email in self.teams),
        )
        Table(TeamMember, ["team_id", "user_id", "role", "is_active", "created_at"]).copy(
            cursor, ((tid, uid, role, True, now) for tid, uid, role in self.members)
        )
        Table(
            ClassificationMapping,
            ["category_id", "subcategory_id", "team_id", "default_priority", "created_at",
             "updated_at"],
        ).copy(cursor, ((c, s, t, p, now, now) for c, s, t, p in self.mappings))  # fmt: skip
        self.levels.load(cursor, Table, now)


# --- Text ----------------------------------------------------------------------------------


class Text:
    """Titles, descriptions and comments, from per-category sentence pools (cheap per row)."""

    def __init__(self, rng: random.Random, org: Org):
        self.rng = rng
        self.titles, self.sentences, self.replies, self.notes = {}, {}, {}, {}
        for cid, _, _, objects, code in org.categories:
            problems = vocabulary.GROUPS[code]["problems"]
            self.titles[cid] = [
                f"{obj[0].upper()}{obj[1:]} {problem}" for obj in objects for problem in problems
            ]
            self.sentences[cid] = [
                f"{rng.choice(vocabulary.OPENERS)} my {rng.choice(objects)} "
                f"{rng.choice(problems)} in the {rng.choice(vocabulary.PLACES)} office. "
                f"{rng.choice(vocabulary.CLOSERS)}"
                for _ in range(300)
            ]
            fill = {
                "obj": lambda objects=objects: rng.choice(objects),
                "problem": lambda problems=problems: rng.choice(problems),
                "place": lambda: rng.choice(vocabulary.PLACES),
                "code": lambda: f"E{rng.randint(1000, 9999)}",
            }
            self.replies[cid] = [
                self._fill(rng.choice(vocabulary.PUBLIC_REPLIES), fill) for _ in range(200)
            ]
            self.notes[cid] = [
                self._fill(rng.choice(vocabulary.INTERNAL_NOTES), fill) for _ in range(100)
            ]

    @staticmethod
    def _fill(template: str, fill: dict) -> str:
        return template.format(**{key: make() for key, make in fill.items() if key in template})

    def description(self, cid: int) -> str:
        rng = self.rng
        parts = rng.choices(self.sentences[cid], k=rng.randint(1, 3))
        if rng.random() < 0.3:
            parts.append(f"Error code E{rng.randint(1000, 9999)}.")
        return " ".join(parts)


# --- Tickets, comments, history ------------------------------------------------------------


class TicketWriter:
    def __init__(self, rng: random.Random, org: Org, text: Text, total: int, now: float, forms):
        from portal.notifications.models import EmailDelivery, Notification
        from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent

        self.rng, self.org, self.text, self.total, self.now = rng, org, text, total, now
        self.forms = forms
        self.ticket_table = Table(
            Ticket,
            ["id", "title", "description", "requester_id", "group_id", "category_id",
             "subcategory_id", "priority", "status", "team_id", "assignee_id", "created_at",
             "updated_at", "first_response_at", "resolved_at", "closed_at", "version",
             "idempotency_key", "form_values", *generate_sla.COLUMNS],
        )  # fmt: skip
        self.attachment_table = Table(
            Attachment,
            ["ticket_id", "comment_id", "uploader_id", "original_name", "storage_key", "size",
             "content_type", "sha256", "created_at"],
        )  # fmt: skip
        self.notification_table = Table(Notification, generate_notifications.NOTIFICATION_FIELDS)
        self.email_table = Table(EmailDelivery, generate_notifications.EMAIL_FIELDS)
        # The additions since the first version draw from their own generators, so the
        # tickets, comments and events of a seed stay what they were.
        self.extra_rng = random.Random(rng.random())
        self.notices = generate_notifications.Notices(
            random.Random(rng.random()), org, now, "http://127.0.0.1"
        )
        self.attachments = 0
        self.file_types = list(FILE_NAMES)
        self.group_name = {gid: name for gid, name, _ in org.groups}
        self.category_name = {cid: name for cid, _, name, _, _ in org.categories}
        self.subcategory_name = {sid: name for sid, _, name in org.subcategories}
        self.comment_table = Table(
            Comment, ["id", "ticket_id", "author_id", "body", "is_internal", "created_at"]
        )
        self.event_table = Table(
            TicketEvent,
            ["id", "ticket_id", "actor_id", "kind", "field", "old_value", "new_value", "reason",
             "is_internal", "version", "created_at"],
        )  # fmt: skip
        self.comment_id = 0
        self.event_id = 0
        self.comments = 0
        self.events = 0
        start = now - YEARS * 365 * DAY
        # Creation times in order, so ticket numbers follow creation as the portal's do.
        # Whole microseconds, so stamps and the SLA arithmetic (integer microseconds) agree.
        self.created = sorted(
            round(start + rng.random() * (now - 3600 - start), 6) for _ in range(total)
        )
        # A few tickets about a week old that every bench persona can see.
        first = max(1, int(total * (1 - 8 / (YEARS * 365))) - SHOWCASE)
        self.showcase = set(range(first, first + SHOWCASE))
        # The last one carries real files (attach_showcase_files) and an admin watching it.
        self.files_ticket = first + SHOWCASE - 1
        self.watchers = {self.files_ticket: [org.personas["admin"]]}
        self.status_counts = {}

    def _status(self, created: float) -> str:
        rng = self.rng
        tau = OPEN_SHARE * YEARS * 365 * DAY
        if rng.random() < math.exp(-(self.now - created) / tau):
            mix = OPEN_MIX
        else:
            mix = CLOSED_MIX
        pick = rng.random() * sum(w for _, w in mix)
        for name, weight in mix:
            pick -= weight
            if pick <= 0:
                return name
        return mix[-1][0]

    def rows(self, first_id: int, last_id: int):
        """Ticket rows of ids [first_id, last_id]; comments and events collected aside."""
        rng, org, text, now = self.rng, self.org, self.text, self.now
        random_ = rng.random
        cat_cum, cat_total = org.cat_cum, org.cat_cum[-1]
        priorities = [p for p, _ in PRIORITIES]
        prio_cum = list(itertools.accumulate(w for _, w in PRIORITIES))
        comments, events, files = [], [], []
        self.pending = (comments, events, files)
        tickets = []
        extra = self.extra_rng
        levels, now_us = org.levels, round(now * 1_000_000)
        since = self.notices.since
        answers = self.forms.values
        for tid in range(first_id, last_id + 1):
            created = self.created[tid - 1]
            showcase = tid in self.showcase
            if showcase:
                cid, sid = org.top_category, None
            else:
                cid = bisect.bisect(cat_cum, random_() * cat_total) + 1
                subs = org.subs_of[cid]
                # Zipf inside the category; one ticket in ten leaves the subcategory empty.
                sid = (
                    None
                    if random_() < 0.1
                    else subs[min(int(len(subs) * random_() ** 2), len(subs) - 1)]
                )
            gid = org.group_of_cat[cid]
            team = org.team_for.get((cid, sid)) or org.team_for.get((cid, None))
            r = random_()
            if showcase:
                requester = org.personas["requester"]
            elif tid % 211 == 0:  # the people who work tickets raise some too ("My tickets")
                requester = org.personas[WORKER_PERSONAS[(tid // 211) % len(WORKER_PERSONAS)]]
            elif r < 0.02:
                requester = org.power_users[int(random_() * POWER_USERS)]
            elif r < 0.04:
                requester = org.agent_ids[int(random_() * len(org.agent_ids))]
            else:
                requester = org.requester_ids[int(random_() * REQUESTERS)]
            status = "in_progress" if showcase else self._status(created)
            priority = priorities[bisect.bisect(prio_cum, random_())]
            first_response = resolved = closed = None
            end = now
            if status == "cancelled":
                end = round(min(created + rng.expovariate(1 / 3600), now - 1), 6)
            elif status != "new":
                first_response = round(min(created + rng.expovariate(1 / 7200), now - 60), 6)
                if status in ("resolved", "closed"):
                    resolved = round(first_response + rng.expovariate(1 / (30 * 3600)), 6)
                    if resolved > now - 60:
                        status, resolved = "in_progress", None
                if status == "closed":
                    closed = round(resolved + 3600 + random_() * 7 * DAY, 6)
                    if closed > now - 60:
                        status, closed = "resolved", None
                end = resolved or now
            if team is None and status not in ("new", "cancelled"):
                team = org.team_of_group[gid][0]  # the SPOC handed it to the group's first team
            assignee = None
            if team is not None and (status not in ("new", "cancelled") or random_() < 0.8):
                members = org.members_of[team]
                assignee = members[int(random_() * len(members))]
            if showcase:
                team, assignee = org.bench_team, org.personas["agent"]
            self.status_counts[status] = self.status_counts.get(status, 0) + 1
            title = rng.choice(text.titles[cid])

            # History as the services write it: created, routed, assigned, status changes.
            version = 1
            ev = [
                (tid, requester, "created", "", "", title, "", False, 1, created),
                (tid, None, "routed", "team", "", org.teams[team - 1][1] if team else "",
                 ROUTED_REASON if team else UNROUTED_REASON, False, 1, created),
            ]  # fmt: skip
            if assignee is not None:
                ev.append(
                    (tid, None, "assigned", "assignee", "", org.names[assignee],
                     "Fewest open tickets in the team.", False, 1, created)
                )  # fmt: skip
            worker = assignee or requester
            if first_response is not None:
                version += 1
                ev.append((tid, worker, "status", "status", "new", "in_progress", "", False,
                           version, first_response))  # fmt: skip
            held = None
            if status == "on_hold":
                version += 1
                held = round(first_response + (now - first_response) * random_(), 6)
                ev.append((tid, worker, "status", "status", "in_progress", "on_hold",
                           "Waiting for the requester.", False, version, held))  # fmt: skip
            if resolved is not None:
                version += 1
                ev.append((tid, worker, "status", "status", "in_progress", "resolved", "", False,
                           version, resolved))  # fmt: skip
            if closed is not None:
                version += 1
                ev.append((tid, requester, "status", "status", "resolved", "closed", "", False,
                           version, closed))  # fmt: skip
            if status == "cancelled":
                version += 1
                ev.append((tid, requester, "status", "status", "new", "cancelled",
                           "No longer needed.", False, version, end))  # fmt: skip

            # Comments between the first response (or creation) and the end of the work.
            count = SHOWCASE_COMMENTS if showcase else rng.choice(COMMENTS_BY_STATUS[status])
            begin = first_response or created
            span = max(end - begin, 60.0)
            times = sorted(begin + span * random_() for _ in range(count))
            for index, at in enumerate(times):
                by_worker = index % 2 == 0 and status != "new" and assignee is not None
                internal = by_worker and random_() < 0.2
                author = assignee if by_worker else requester
                if internal:
                    body = rng.choice(text.notes[cid])
                else:
                    body = rng.choice(text.replies[cid])
                self.comment_id += 1
                comments.append((self.comment_id, tid, author, body, internal, stamp(at)))
                ev.append((tid, author, "commented", "comment", "", str(self.comment_id),
                           INTERNAL_REASON if internal else "", internal, version, at))  # fmt: skip
            own = comments[len(comments) - count :]  # this ticket's
            # Files: with the ticket when it was raised, or with one of its comments.
            if not showcase and extra.random() < ATTACHMENT_SHARE:
                self._files(tid, requester, created, ev, own, files, version, extra)
            last = max(event[-1] for event in ev)  # the ticket's latest activity
            us = lambda x: None if x is None else round(x * 1_000_000)  # noqa: E731
            clocks = generate_sla.ticket_clocks(
                levels, extra, group=gid, category=cid, priority=priority, status=status,
                created=us(created), first_response=us(first_response),
                met=us(resolved or closed), held=us(held),
                ended=us(end) if status == "cancelled" else None, now=now_us,
            )  # fmt: skip
            if last >= since:
                self._notices(tid, title, requester, assignee, team, gid, cid, sid, priority,
                              status, clocks, ev, own)  # fmt: skip
            for event in ev:
                self.event_id += 1
                events.append((self.event_id, *event[:-1], stamp(event[-1])))
            description = text.description(cid) + (RARE_SENTENCE if showcase else "")
            tickets.append(
                (tid, title, description, requester, gid, cid, sid, priority, status,
                 team, assignee, stamp(created), stamp(last),
                 stamp(first_response) if first_response else None,
                 stamp(resolved) if resolved else None, stamp(closed) if closed else None,
                 version, None, answers(cid, sid, created, always=showcase), *clocks.row)
            )  # fmt: skip
        return tickets

    def _files(self, tid, requester, created, ev, comments, files, version, extra) -> None:
        """Attachment rows (and their "attached" events) for one ticket, as the services
        write them: raised with the ticket (the requester's), or with a comment (its
        author's, internal with an internal comment). Metadata only: no bytes are stored
        except for the showcase ticket's (attach_showcase_files)."""
        own = comments
        comment = extra.choice(own) if own and extra.random() < 0.5 else None
        if comment is None:
            at, uploader, comment_id, internal = created, requester, None, False
        else:
            comment_id, _, uploader, _, internal, when = comment
            at = dt.datetime.fromisoformat(when).timestamp()
        names = []
        for _ in range(1 if extra.random() < 0.7 else extra.randint(2, 3)):
            content_type = extra.choice(self.file_types)
            name = extra.choice(FILE_NAMES[content_type])
            moment = dt.datetime.fromtimestamp(at, dt.UTC)
            key = f"tickets/{tid}/{moment:%Y%m%dT%H%M%SZ}-{extra.getrandbits(64):016x}-{name}"
            size = int(extra.lognormvariate(11.5, 1.2)) % 5_000_000 + 200
            files.append(
                (tid, comment_id, uploader, name, key, size, content_type,
                 f"{extra.getrandbits(256):064x}", stamp(at))
            )  # fmt: skip
            names.append(name)
        ev.append((tid, uploader, "attached", "attachments", "", ", ".join(names), "", internal,
                   version, at))  # fmt: skip

    def _notices(self, tid, title, requester, assignee, team, gid, cid, sid, priority, status,
                 clocks, ev, comments) -> None:  # fmt: skip
        parts = [self.group_name[gid], self.category_name[cid]]
        if sid:
            parts.append(self.subcategory_name[sid])
        self.notices.ticket(
            {
                "tid": tid, "number": f"TKT-{tid:06d}", "title": title, "requester": requester,
                "assignee": assignee, "team": team, "group": gid,
                "priority": priority.capitalize(), "classification": " / ".join(parts),
                "policy": clocks.row[1],
                "bodies": {c[0]: c[3] for c in comments},
            },
            sorted(ev, key=lambda e: e[-1]),
            clocks.notices,
            self.watchers.get(tid, []),
        )  # fmt: skip

    def load(self, cursor) -> None:
        for first in range(1, self.total + 1, CHUNK):
            last = min(first + CHUNK - 1, self.total)
            rows = self.rows(first, last)
            comments, events, files = self.pending
            self.ticket_table.copy(cursor, iter(rows))
            self.comments += self.comment_table.copy(cursor, iter(comments))
            self.events += self.event_table.copy(cursor, iter(events))
            self.attachments += self.attachment_table.copy(cursor, iter(files))
            self.notices.flush(cursor, self.notification_table, self.email_table)
            if last % (CHUNK * 10) == 0 or last == self.total:
                log(
                    f"  {last:,} tickets, {self.comments:,} comments, {self.events:,} events, "
                    f"{self.attachments:,} files, {self.notices.count:,} notifications, "
                    f"{self.notices.email_count:,} emails"
                )


# --- Real files on the showcase ticket -------------------------------------------------------


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a grey gradient), so the page shows a thumbnail that decodes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes((x * 4) % 256 for x in range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    text = b"BT /F1 12 Tf 72 720 Td (Docking station set-up) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


SHOWCASE_FILES = (
    # (name, bytes, attached with: None = the ticket, "public" / "internal" = a comment)
    ("error-dialog.png", _png, None),
    ("docking-station-manual.pdf", _pdf, None),
    ("install.log", lambda: b"2026-11-18 09:14:02 dock firmware 1.2.3: USB-C link reset\n" * 40,
     "public"),
    ("diagnostics.csv", lambda: b"port,status,errors\nusb-c,flapping,17\nhdmi,ok,0\n",
     "internal"),
)  # fmt: skip


def attach_showcase_files(cursor, ticket_id: int, personas: dict) -> list[str]:
    """Store real small files on one showcase ticket through the portal's attachment storage
    (STORAGES["attachments"]: VAR_DIR/attachments, or the R2 bucket) and write their rows
    and "attached" events as attachment_services does.

    The rows are written right after each file is stored, so every stored object has its
    row and the hourly orphan sweep (tickets.tasks.cleanup_orphan_attachments_task) keeps
    them; the keys are returned for bench_info, so the next load of this database can
    remove them (`forget_files`) instead of leaving orphans behind.
    """
    import io

    from portal.attachments.names import storage_key
    from portal.attachments.storage import StorageUnavailable, get_storage, save_file
    from portal.attachments.validation import validate_upload

    storage = get_storage()
    cursor.execute("SELECT created_at, version FROM tickets_ticket WHERE id = %s", [ticket_id])
    created, version = cursor.fetchone()
    keys, batches = [], {}
    for name, make, with_comment in SHOWCASE_FILES:
        if with_comment is None:
            comment_id, uploader, at, internal = None, personas["requester"], created, False
        else:
            internal = with_comment == "internal"
            # The agent's first comment of that kind (any of theirs if they wrote none).
            cursor.execute(
                "SELECT id, author_id, created_at, is_internal FROM tickets_comment "
                "WHERE ticket_id = %s AND author_id = %s "
                "ORDER BY is_internal <> %s, created_at LIMIT 1",
                [ticket_id, personas["agent"], internal],
            )
            found = cursor.fetchone()
            if found is None:
                continue
            comment_id, uploader, at, internal = found
        upload = validate_upload(name, io.BytesIO(make()))
        try:
            key = save_file(storage, storage_key(["tickets", str(ticket_id)], upload.safe_name),
                            upload.file)  # fmt: skip
        except StorageUnavailable as error:
            log(f"  showcase files skipped: {error}")
            break
        finally:
            upload.close()
        cursor.execute(
            "INSERT INTO tickets_attachment (ticket_id, comment_id, uploader_id, original_name, "
            "storage_key, size, content_type, sha256, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [ticket_id, comment_id, uploader, upload.original_name, key, upload.size,
             upload.file.content_type, upload.sha256, at],
        )  # fmt: skip
        batch = batches.setdefault(comment_id, [uploader, [], internal, at])
        batch[1].append(upload.original_name)
        keys.append(key)
    # One "attached" event per upload, naming its files (as attachment_services._store).
    for uploader, names, internal, at in batches.values():
        cursor.execute(
            "INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, field, old_value, "
            "new_value, reason, is_internal, version, created_at) "
            "VALUES (%s, %s, 'attached', 'attachments', '', %s, '', %s, %s, %s)",
            [ticket_id, uploader, ", ".join(names), internal, version, at],
        )
    return keys


def stored_files(url: str) -> list[str]:
    """The keys of the files an earlier load of this database stored (bench_info)."""
    import psycopg

    try:
        with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
            row = conn.execute("SELECT value FROM bench_info WHERE key = 'files'").fetchone()
    except psycopg.Error:
        return []
    return list(row[0]) if row else []


def forget_files(keys: list[str]) -> None:
    """Delete the files of the database being replaced (their rows are gone with it)."""
    from portal.attachments.storage import get_storage, storage_errors

    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except storage_errors():
            log(f"  could not delete {key}; the orphan sweep of this storage will")


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=None, help="default: BENCH_TICKETS or 10000")
    parser.add_argument("--database", help="default: portal_bench_<tickets>")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a complete database of this size"
    )
    args = parser.parse_args()
    tickets = args.tickets or common.tickets_from_env()
    name = common.database_name(tickets, args.database)
    url = common.database_url(name)
    if args.reuse:
        info = existing_info(url)
        if info and info.get("tickets") == tickets and info.get("seed") == args.seed:
            if migrations_current(url):
                log(f"{name} already holds {tickets:,} tickets (seed {args.seed}); reusing it")
                return
            log(f"{name} misses migrations added since it was made; loading it again")
    started = time.monotonic()
    previous_files = stored_files(url)
    log(f"creating {name} and migrating")
    recreate_database(name)
    common.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    forget_files(previous_files)

    import psycopg
    from django.db import connections

    from portal.accounts.models import User
    from portal.notifications.models import EmailDelivery, Notification
    from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent

    connections.close_all()
    rng = random.Random(args.seed)
    now = time.time()
    timings = {}
    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        ticket_tables = [
            m._meta.db_table
            for m in (Ticket, Comment, TicketEvent, Attachment, Notification, EmailDelivery)
        ]
        restore = drop_for_load(cursor, ticket_tables)

        mark = time.monotonic()
        org = Org(rng, now)
        org.build()
        org.load(cursor)
        forms = generate_forms.Forms(org, now)
        forms.load(cursor, Table, stamp(now - YEARS * 365 * DAY - 30 * DAY))
        checked = generate_forms.check(forms)
        log(f"request forms: {len(forms.rows)} fields, {checked} answers checked")
        timings["organisation"] = time.monotonic() - mark
        log(f"organisation loaded: {len(org.users):,} users, {len(org.teams)} teams")

        mark = time.monotonic()
        text = Text(rng, org)
        writer = TicketWriter(rng, org, text, tickets, now, forms)
        writer.load(cursor)
        Table(Ticket.watchers.through, ["ticket_id", "user_id"]).copy(
            cursor, ((t, u) for t, users in writer.watchers.items() for u in users)
        )
        timings["copy"] = time.monotonic() - mark

        mark = time.monotonic()
        log(f"rebuilding {len(restore)} indexes and foreign keys")
        for statement in restore:
            cursor.execute(statement)
        timings["indexes"] = time.monotonic() - mark

        # New rows must get the next ids: ticket numbers continue after the loaded ones.
        from django.apps import apps

        for model in (
            User,
            Ticket,
            Comment,
            TicketEvent,
            Attachment,
            Notification,
            *apps.get_app_config("catalog").get_models(),
            *apps.get_app_config("sla").get_models(),
        ):
            if model._meta.pk.get_internal_type().endswith("AutoField"):
                reset_sequence(cursor, model)
        generate_notifications.leave_unread(
            cursor, Notification._meta.db_table, sorted(set(org.personas.values()))
        )
        files = attach_showcase_files(cursor, writer.files_ticket, org.personas)

        # The analytics rollup is derived from the tickets the COPY bypassed the services
        # for: rebuild it (Django's own connection; the load above is committed).
        mark = time.monotonic()
        from portal.analytics import rollup

        log(f"analytics rollup: {rollup.rebuild():,} rows")
        timings["analytics_rollup"] = time.monotonic() - mark

        mark = time.monotonic()
        log("vacuum analyse")
        cursor.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = time.monotonic() - mark

        showcase = sorted(writer.showcase)
        info = {
            "tickets": tickets,
            "comments": writer.comments,
            "events": writer.events,
            "users": len(org.users),
            "seed": args.seed,
            "status_counts": writer.status_counts,
            "personas": {
                role: {"id": uid, "email": next(u[1] for u in org.users if u[0] == uid)}
                for role, uid in org.personas.items()
            },
            "showcase": showcase,
            "files_ticket": writer.files_ticket,
            "files": files,
            "attachments": writer.attachments + len(files),
            "notifications": writer.notices.count,
            "emails": writer.notices.email_count,
            "sla_policies": [p[1] for p in org.levels.policies],
            "form_fields": len(forms.rows),
            "tickets_with_form_values": forms.answered,
            "sla_checked": org.levels.checked,
            "bench_team": org.bench_team,
            "top_category": org.top_category,
            "top_group": org.group_of_cat[org.top_category],
            "search": {
                "common": "laptop",
                "medium": "docking station",
                "rare": RARE_CODE,
                "none": "xylophone",
            },
            "generated_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
            "seconds": {**{k: round(v, 1) for k, v in timings.items()}},
        }
        info["seconds"]["total"] = round(time.monotonic() - started, 1)
        info["complete"] = True
        cursor.execute("CREATE TABLE bench_info (key text PRIMARY KEY, value jsonb NOT NULL)")
        for key, value in info.items():
            cursor.execute("INSERT INTO bench_info VALUES (%s, %s)", [key, json.dumps(value)])
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    log(
        f"done in {info['seconds']['total']}s: {tickets:,} tickets, {writer.comments:,} comments, "
        f"{writer.events:,} events, {info['attachments']:,} files, "
        f"{writer.notices.count:,} notifications, {writer.notices.email_count:,} emails, {size}; "
        f"status mix {writer.status_counts}"
    )


if __name__ == "__main__":
    main()
