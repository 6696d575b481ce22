"""In-app notifications and sent emails for the benchmark data set (used by generate.py).

For every ticket event in the last WINDOW_DAYS the people portal/tickets/notify.py would
tell are told, with its texts, links and event keys: creation (the group's SPOCs and the
assignee, or the team's leads; the requester's confirmation), status changes (requester
and watchers), comments (public: requester, assignee, watchers; internal: assignee and the
team, never the requester), and the SLA notices the escalation task sent (at risk: the
assignee; breached: the team's leads and the group's SPOCs). Never the person who acted,
each person once per event.

Most are read (a person opens the bell a few hours after a notice on average, and one in
fifty is never opened); the newest three of each bench persona are left unread by
`leave_unread` so the bell and "unread" pages have something to count. Notices of the last
EMAIL_DAYS also have their outbox row, sent: every kind mails by default and nobody has
changed a preference. The email texts are the portal's templates rendered once per kind
and variant with placeholders, then filled per row (rendering each would take minutes).
"""

import datetime as dt
import random

from django.utils.html import escape

from bench.common import stamp

WINDOW_DAYS = 90
EMAIL_DAYS = 3
DAY = 86_400.0
READ_DELAY = 6 * 3600.0  # mean time before a notice is read
NEVER_READ = 0.02
UNREAD_PER_PERSONA = 3
DOMAIN = "bench.example.com"  # FROM_EMAIL's domain in a bench environment
# History rows store status codes; messages show the labels (as portal/tickets/history.py).
STATUS_LABELS = {
    "new": "New", "in_progress": "In progress", "on_hold": "On hold",
    "resolved": "Resolved", "closed": "Closed", "cancelled": "Cancelled",
}  # fmt: skip
FIELDS = ("recipient", "actor", "number", "title", "status", "old_status", "priority",
          "classification", "requester", "team", "text", "body", "target", "due", "policy",
          "link")  # fmt: skip


def _placeholder(name: str) -> str:
    return f"@@{name}@@"


class _Recipient:
    def get_short_name(self) -> str:
        return _placeholder("recipient")


class Notices:
    """Collects notification and email rows per ticket; `flush` hands them to COPY."""

    def __init__(self, rng: random.Random, org, now: float, app_url: str):
        self.rng, self.org, self.now = rng, org, now
        self.since = now - WINDOW_DAYS * DAY
        self.email_since = now - EMAIL_DAYS * DAY
        self.app_url = app_url.rstrip("/")
        self.rows, self.emails = [], []
        self.count = self.email_count = 0
        self.message = 0
        self.templates = {}
        self.emails_of = {uid: email for uid, email, _, _ in org.users}
        self.leads_of = {}
        for tid, uid, role in org.members:
            if role == "lead":
                self.leads_of.setdefault(tid, []).append(uid)
        self.spocs_of = {}
        for gid, uid in org.spocs:
            self.spocs_of.setdefault(gid, []).append(uid)

    # --- Email texts --------------------------------------------------------------------

    def _template(self, kind: str, variant: tuple) -> tuple[str, str, str]:
        key = (kind, variant)
        if key not in self.templates:
            from portal.lib.emails import render_email

            context = {name: _placeholder(name) for name in FIELDS}
            context.update(
                recipient=_Recipient(),
                actor_name=_placeholder("actor"),
                requester_name=_placeholder("requester"),
                team_name=_placeholder("team"),
                link_url=_placeholder("link"),
                app_url=self.app_url,
                reopen_days=14,
                **dict(variant),
            )
            rendered = render_email(kind, context)
            self.templates[key] = (rendered.subject, rendered.text, rendered.html)
        return self.templates[key]

    def _email(self, kind, variant, values: dict, uid: int, at: float, event_key: str):
        subject, text, html = self._template(kind, variant)
        for name, value in values.items():
            mark = _placeholder(name)
            subject = subject.replace(mark, value)
            text = text.replace(mark, value)
            html = html.replace(mark, escape(value))
        self.message += 1
        sent = at + 2 + self.rng.random() * 20
        created = stamp(at)
        self.emails.append(
            (
                f"00000000-0000-4000-8000-{self.message:012x}", uid, self.emails_of[uid], kind,
                event_key[:200], subject[:255], text, html,
                f"<bench.{self.message}@{DOMAIN}>", f"<ticket-{values['tid']}@{DOMAIN}>",
                "sent", 1, created, created, "", created, stamp(sent),
            )
        )  # fmt: skip

    # --- Notifications ------------------------------------------------------------------

    def _tell(self, recipients, *, actor, kind, text, at, link, event_key, values, variant=()):
        seen = set()
        for uid in recipients:
            if uid is None or uid == actor or uid in seen:
                continue
            seen.add(uid)
            read = None
            if self.rng.random() >= NEVER_READ:
                read_at = at + self.rng.expovariate(1 / READ_DELAY)
                if read_at < self.now:
                    read = stamp(read_at)
            self.rows.append((uid, kind, text[:300], link, stamp(at), read))
            if at >= self.email_since:
                short = self.org.names[uid].split(" ")[0]
                self._email(kind, variant, {**values, "recipient": short}, uid, at, event_key)

    def ticket(self, t: dict, events: list, sla_notices: list, watchers: list) -> None:
        """`t`: tid, number, title, requester, assignee, team, group, priority, status
        labels…; `events`: the ticket's history tuples as generate.py writes them."""
        org = self.org
        tid, number, title = t["tid"], t["number"], t["title"]
        requester, assignee, team, group = t["requester"], t["assignee"], t["team"], t["group"]
        link = f"/tickets/{number}"
        leads = self.leads_of.get(team, []) if team else []
        spocs = self.spocs_of.get(group, [])
        base = {
            "tid": str(tid), "number": number, "title": title, "priority": t["priority"],
            "classification": t["classification"], "requester": org.names[requester],
            "team": org.teams[team - 1][1] if team else "", "link": self.app_url + link,
            "body": "", "target": "", "due": "", "policy": t["policy"], "old_status": "",
        }  # fmt: skip
        status = "New"
        for event in events:
            _, actor, kind, _, old, new, _, internal, version, at = event[:10]
            if kind == "status":
                status = STATUS_LABELS[new]
            if at < self.since:
                continue
            values = {**base, "actor": org.names[actor] if actor else "The portal",
                      "status": status}  # fmt: skip
            key = f"ticket:{tid}"
            if kind == "created":
                text = f"New ticket {number}: {title}"
                self._tell(
                    [*spocs, *([assignee] if assignee else leads)], actor=actor,
                    kind="ticket_created", text=text, at=at, link=link,
                    event_key=f"{key}:created", values={**values, "text": text},
                )  # fmt: skip
                text = f"We received your ticket {number}: {title}"
                self._tell(
                    [requester, *watchers], actor=None, kind="ticket_received", text=text,
                    at=at, link=link, event_key=f"{key}:received",
                    values={**values, "actor": "The portal", "text": text},
                )  # fmt: skip
            elif kind == "status":
                text = f"{number} is now {status}: {title}"
                resolved = new == "resolved"
                self._tell(
                    [requester, *watchers], actor=actor, kind="ticket_status", text=text,
                    at=at, link=link, event_key=f"{key}:status:v{version}",
                    values={**values, "text": text, "old_status": STATUS_LABELS[old]},
                    variant=(("resolved", resolved),),
                )  # fmt: skip
            elif kind == "commented":
                if internal:
                    people = [u for u in [assignee, *org.members_of.get(team, [])]
                              if u is not None and u != requester]  # fmt: skip
                    text = f"Internal note on {number}: {title}"
                else:
                    people = [requester, assignee, *watchers]
                    text = f"New comment on {number}: {title}"
                self._tell(
                    people, actor=actor, kind="ticket_comment", text=text, at=at, link=link,
                    event_key=f"{key}:comment:{new}",
                    values={**values, "text": text, "body": t["bodies"].get(int(new), "")},
                    variant=(("internal", internal),),
                )  # fmt: skip
        for line, target, label, due, at in sla_notices:
            at_s = at / 1_000_000
            if at_s < self.since:
                continue
            due_text = dt.datetime.fromtimestamp(due / 1_000_000, dt.UTC).strftime("%Y-%m-%d %H:%M")
            values = {**base, "actor": "The portal", "status": status, "target": label,
                      "due": due_text}  # fmt: skip
            if line == "at_risk":
                people = [assignee] if assignee else []
                text = f"{label} on {number} is due {due_text}: {title}"
            else:
                people = [*leads, *spocs]
                text = f"{label} on {number} missed its SLA ({due_text}): {title}"
            self._tell(
                people, actor=None, kind=f"sla_{line}", text=text, at=at_s, link=link,
                event_key=f"ticket:{tid}:sla:{target}:{line}", values={**values, "text": text},
            )  # fmt: skip

    def flush(self, cursor, notification_table, email_table) -> None:
        self.count += notification_table.copy(cursor, iter(self.rows))
        self.email_count += email_table.copy(cursor, iter(self.emails))
        self.rows, self.emails = [], []


NOTIFICATION_FIELDS = ["recipient_id", "kind", "text", "link", "created_at", "read_at"]
EMAIL_FIELDS = ["id", "recipient_id", "to_address", "kind", "event_key", "subject", "body_text",
                "body_html", "message_id", "thread_id", "status", "attempts", "next_attempt_at",
                "claimed_at", "last_error", "created_at", "sent_at"]  # fmt: skip


def leave_unread(cursor, table: str, persona_ids: list[int]) -> None:
    """The newest few notices of each bench persona unread (a bell with a number on it)."""
    from psycopg import sql

    statement = sql.SQL(
        "UPDATE {t} SET read_at = NULL WHERE id IN (SELECT id FROM {t} WHERE recipient_id = %s "
        "ORDER BY created_at DESC, id DESC LIMIT %s)"
    ).format(t=sql.Identifier(table))
    for uid in persona_ids:
        cursor.execute(statement, [uid, UNREAD_PER_PERSONA])
