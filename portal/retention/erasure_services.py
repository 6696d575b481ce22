"""Erasing a departed person: their name becomes a stable pseudonym, their own data goes.

Why the account row stays (anonymised) instead of being deleted: tickets, comments,
history events, files and ratings refer to their author with PROTECT, and those records
are the organisation's, not the person's. Pointing them all at one shared "former
employee" account would merge different people (a thread between two departed agents
would read as one person talking to themselves); deleting them would lose other people's
requests. So the row keeps its id and loses everything that identifies it: the name
becomes "Former employee 7f3a9c" (a keyed hash of the id: the same on every page, and
nothing to reverse), the email `former-7f3a9c-<id>@erased.invalid` (unique, undeliverable:
`.invalid` is reserved), no password, no rights, inactive.

How it runs: `erasure_request` (the admin's POST) checks the refusals, records an
`ErasureRequest`, locks the account out at once (inactive, no password, sessions and API
tokens gone) and queues `tasks.erase_person`. The worker (`erasure_run`) re-checks, then
works in batches of ERASURE_BATCH rows, each batch one short transaction that also moves
the request's cursor and counts, so a worker killed mid-erasure resumes where the last
committed batch ended, and nothing is counted or done twice. Phases:

- `files`: their uploads (rows now; objects by the pending-object sweep, enqueued when
  the erasure is done, so no storage call happens in a transaction);
- `own`: their own rows, deleted: sessions, company sign-in bindings, two-factor devices,
  notifications, mail to them and the mail they sent in (outbox rows and the email-in
  ledger), email preferences, sign-in counters and reset requests for their address,
  personal canned replies, memberships, SPOC seats, watching, delegations;
- `rewrite`: every text and JSON column of every table (history, comment bodies, other
  people's notifications and mail, webhook bodies, the admin site's log, …), a window of
  primary keys at a time, where the full name (as whole words, any case, any spacing) or
  the email appears. The full-text search of tickets reads these columns, so it changes
  with them; the stored vectors of knowledge-base articles are recomputed in the batch.
  A first name alone is not matched: it is not unique enough to rewrite without damaging
  other people's text;
- `account`: the account row is anonymised, the request forgets the name and email it
  held, and is done.
"""

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import services as accounts
from portal.accounts.models import (
    LoginThrottle,
    PasskeyDevice,
    PasswordResetRequest,
    SecurityEvent,
    SsoIdentity,
    User,
    UserSession,
)
from portal.api.models import ApiToken
from portal.approvals.models import Delegation
from portal.attachments.cleanup import delete_later
from portal.catalog.models import ApprovalRule, BusinessUnitGroup, PendingImport, TeamMember
from portal.kb.models import Article
from portal.kb.search import article_vector
from portal.lib import markdown
from portal.lib.db import DATABASE_ERRORS
from portal.lib.errors import Conflict
from portal.lib.tasks import enqueue_with_data
from portal.mailin.models import InboundMessage
from portal.notifications.models import (
    EmailDelivery,
    EmailPreference,
    EmailSuppression,
    Notification,
)
from portal.replies.models import CannedReply
from portal.retention.models import ErasureRequest
from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, Attachment, Comment, Ticket

security_log = logging.getLogger("portal.security")
log = logging.getLogger("portal.retention")

PSEUDONYM_PREFIX = "Former employee "
ERASED_DOMAIN = "erased.invalid"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)
# Tables the rewrite leaves alone: the account itself is anonymised field by field,
# sessions are deleted (others' session data is signed and encoded, never plain text),
# and the erasure requests hold the name and email only while they run.
NOT_REWRITTEN = {"accounts.User", "sessions.Session", "retention.ErasureRequest"}
PHASES = ("files", "own", "rewrite", "account")
PHASE_LABELS = {
    "": "Waiting for the worker",
    "files": "Removing their files",
    "own": "Deleting their own data",
    "rewrite": "Replacing their name and email in every table",
    "account": "Anonymising the account",
}
State = ErasureRequest.State


class ErasureRefused(Conflict):
    """The person still holds something others depend on; nothing was changed."""


def pseudonym_code(user: User) -> str:
    return salted_hmac("portal.retention.erasure", str(user.pk), algorithm="sha256").hexdigest()[:6]


def pseudonym(user: User) -> str:
    return f"{PSEUDONYM_PREFIX}{pseudonym_code(user)}"


def erased_email(user: User) -> str:
    return f"former-{pseudonym_code(user)}-{user.pk}@{ERASED_DOMAIN}"


def is_erased(user: User) -> bool:
    return user.email.endswith(f"@{ERASED_DOMAIN}")


@dataclass
class Erasure:
    """What an erasure did: the pseudonym and rows deleted or rewritten per table."""

    pseudonym: str
    deleted: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    files: int = 0


def check_erasable(user: User, *, actor: User) -> None:
    """Raise (PermissionDenied or ErasureRefused) when `user` may not be erased now."""
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot erase your own account.")
    if is_erased(user):
        raise ErasureRefused("This account has already been erased.", code="already_erased")
    _check_holdings(user)


def _check_holdings(user: User) -> None:
    """What others depend on: open tickets assigned to them, the only SPOC seat of a group."""
    open_assigned = access.system_read(Ticket).filter(assignee=user, status__in=OPEN_STATUSES)
    if count := open_assigned.count():
        raise ErasureRefused(
            f"{user} still has {count} open ticket{'s' if count != 1 else ''} assigned. "
            "Deactivate the account first (that hands their open tickets on through routing) "
            "or reassign them, then erase.",
            code="open_tickets",
        )
    theirs = BusinessUnitGroup.objects.filter(spocs=user).values("pk")
    sole = list(
        BusinessUnitGroup.objects.filter(is_active=True, pk__in=theirs)
        .annotate(spoc_count=models.Count("spocs"))
        .filter(spoc_count=1)
        .values_list("name", flat=True)
    )
    if sole:
        raise ErasureRefused(
            f"{user} is the only SPOC of {', '.join(sole)}. Name another SPOC first.",
            code="last_spoc",
        )


# --- Accepting a request (the admin's POST) ------------------------------------------


def erasure_request(*, user: User, actor: User) -> ErasureRequest:
    """Record and queue the erasure of `user`; lock the account out now.

    One unfinished request per person: a second submit (or a double click) gets the first
    back, and a failed one is queued again to resume where it stopped. Refuses, before
    writing, when the person is the actor, is already erased, has open tickets assigned,
    is the only SPOC of an active group or the last admin on triage duty while a routing
    gap exists (that check runs under lock in `accounts.user_update`).
    """
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot erase your own account.")
    with transaction.atomic():
        # Two submits at once take turns here; the second finds the first's request.
        person = User.objects.select_for_update().get(pk=user.pk)
        existing = (
            ErasureRequest.objects.select_for_update()
            .filter(user=person)
            .exclude(state=State.DONE)
            .first()
        )
        if existing is not None:
            if existing.state == State.FAILED:
                existing.state, existing.error = State.QUEUED, ""
                existing.save(update_fields=["state", "error"])
                _queue(existing.pk)
            return existing
        check_erasable(person, actor=actor)
        request = ErasureRequest.objects.create(
            user=person,
            requested_by=actor,
            requested_at=timezone.now(),
            name=person.full_name,
            email=person.email,
            pseudonym=pseudonym(person),
        )
        _lock_out(person, actor)
        _queue(request.pk)
    security_log.warning(
        "person erasure requested",
        extra={"user_id": person.pk, "actor_id": actor.pk, "request_id": request.pk},
    )
    user.refresh_from_db()
    return request


def _lock_out(user: User, actor: User) -> None:
    """From now on the account cannot sign in: inactive (which hands on what routing gave
    them and takes them off triage duty), no password, no sessions, no API tokens."""
    accounts.user_update(
        user=user,
        actor=actor,
        full_name=user.full_name,
        is_active=False,
        is_staff=False,
        on_triage_duty=False,
    )
    # No password: as any password change, this ends every session and revokes the API tokens.
    accounts.user_set_password(user=user, password=None, actor=actor, via="erasure")
    # Deleted, not only revoked: nothing of the person's tokens waits for the batches.
    ApiToken.objects.filter(user=user).delete()


def _queue(request_id: int) -> None:
    from portal.retention.tasks import erase_person

    enqueue_with_data(erase_person, request_id)


# A request untouched this long (no batch committed) has lost its task: a worker died
# before the continuation it queued was stored (a Redis queue), or the queue was emptied.
STALLED_AFTER = dt.timedelta(minutes=10)


def erasures_resume_stalled(now: dt.datetime | None = None) -> int:
    """Queue again every unfinished request no batch has moved for STALLED_AFTER (the
    worker's periodic jobs). Harmless when its task was only slow: a run finds the
    request's cursor and two runs at once take turns on its row lock."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = ErasureRequest.objects.filter(state__in=[State.QUEUED, State.RUNNING]).filter(
        Q(updated_at__lt=cutoff) | Q(updated_at__isnull=True, requested_at__lt=cutoff)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for request_id in ids:
        _queue(request_id)
    if ids:
        log.warning("stalled erasure requests queued again", extra={"request_ids": ids})
    return len(ids)


def person_erase(*, user: User, actor: User) -> Erasure:
    """Request the erasure of `user` and run it to the end here, as the worker would
    (scripts and tests). Raises as `erasure_request` does, or ErasureRefused when the
    worker's own checks refuse."""
    request = erasure_request(user=user, actor=actor)
    while erasure_run(request_id=request.pk)["state"] == State.RUNNING:
        pass
    request.refresh_from_db()
    if request.state == State.FAILED:
        raise ErasureRefused(request.error, code="failed")
    counts = request.counts
    return Erasure(
        pseudonym=request.pseudonym,
        deleted=counts.get("deleted", {}),
        rewritten=counts.get("rewritten", {}),
        files=counts.get("files", 0),
    )


# --- The worker's side ---------------------------------------------------------------


def erasure_run(*, request_id: int) -> dict[str, Any]:
    """Work on one request for up to ERASURE_BATCHES_PER_TASK batches; returns its state
    and counts. Safe to run again at any point, and by two workers at once (each batch
    locks the request and starts from the cursor it finds)."""
    if not _start(request_id):
        return _summary(request_id)
    try:
        for _ in range(settings.ERASURE_BATCHES_PER_TASK):
            if not _batch(request_id):
                break
    except DATABASE_ERRORS:
        raise  # the worker puts the task back; the request resumes from its cursor
    except Exception as exc:
        _fail(request_id, f"{exc.__class__.__name__}: {exc}")
        log.exception("erasure failed", extra={"request_id": request_id})
    return _summary(request_id)


def _summary(request_id: int) -> dict[str, Any]:
    request = ErasureRequest.objects.filter(pk=request_id).first()
    if request is None:
        return {"state": "missing"}
    return {"state": request.state, "phase": request.phase, "counts": request.counts}


@transaction.atomic
def _start(request_id: int) -> bool:
    """queued → running, after checking again what the admin's request checked (things
    may have changed while it waited). Returns whether there is work to do."""
    request = ErasureRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None or request.finished:
        return False
    if request.phase == "":  # nothing done yet: the refusals still apply
        try:
            _check_holdings(request.user)
        except ValidationError as exc:
            request.state, request.error = State.FAILED, " ".join(exc.messages)
            request.finished_at = timezone.now()
            request.save(update_fields=["state", "error", "finished_at"])
            return False
        request.phase = PHASES[0]
    if request.state == State.QUEUED:
        request.state = State.RUNNING
    request.started_at = request.started_at or timezone.now()
    request.updated_at = timezone.now()
    request.save(update_fields=["state", "phase", "started_at", "updated_at"])
    return True


def _fail(request_id: int, error: str) -> None:
    ErasureRequest.objects.filter(pk=request_id, state=State.RUNNING).update(
        state=State.FAILED, error=error[:2000], finished_at=timezone.now()
    )


@transaction.atomic
def _batch(request_id: int) -> bool:
    """One batch of the current phase, with the request's cursor and counts, in one
    transaction. Returns whether work remains."""
    request = ErasureRequest.objects.select_for_update().select_related("user").get(pk=request_id)
    if request.state != State.RUNNING:
        return False
    phase_done = _PHASE_WORK[request.phase](request, settings.ERASURE_BATCH)
    fields = ["counts", "cursor_model", "cursor_pk", "updated_at"]
    if phase_done:
        following = PHASES.index(request.phase) + 1
        if following == len(PHASES):
            fields += _finish(request)
        else:
            request.phase, request.cursor_model, request.cursor_pk = PHASES[following], "", ""
            fields.append("phase")
    request.updated_at = timezone.now()
    request.save(update_fields=fields)
    return request.state == State.RUNNING


def _add(request: ErasureRequest, kind: str, label: str, n: int) -> None:
    if n:
        section = request.counts.setdefault(kind, {})
        section[label] = section.get(label, 0) + n


def _files(request: ErasureRequest, batch: int) -> bool:
    rows = list(
        access.system_read(Attachment)
        .filter(uploader_id=request.user_id)
        .order_by("pk")
        .values_list("pk", "storage_key")[:batch]
    )
    if rows:
        delete_later([key for _pk, key in rows])
        access.system_read(Attachment).filter(pk__in=[pk for pk, _key in rows]).delete()
        request.counts["files"] = request.counts.get("files", 0) + len(rows)
        _add(request, "deleted", "tickets.Attachment", len(rows))
    return len(rows) < batch


# What "own" deletes (or clears), in this order: (label, rows of the person).
def _owned(user_id: int, email: str) -> list[tuple[str, Callable[[], QuerySet]]]:
    pair_prefix = f"pair:{email.lower()}|"
    deleted: list[tuple[type[models.Model], Q]] = [
        (UserSession, Q(user_id=user_id)),
        (ApiToken, Q(user_id=user_id)),
        (SsoIdentity, Q(user_id=user_id)),
        (TOTPDevice, Q(user_id=user_id)),
        (PasskeyDevice, Q(user_id=user_id)),
        (StaticDevice, Q(user_id=user_id)),
        (Notification, Q(recipient_id=user_id)),
        (EmailPreference, Q(user_id=user_id)),
        (EmailDelivery, Q(recipient_id=user_id) | Q(to_address__iexact=email)),
        (InboundMessage, Q(sender__iexact=email)),
        (PasswordResetRequest, Q(email__iexact=email)),
        (LoginThrottle, Q(key=f"account:{email.lower()}") | Q(key__startswith=pair_prefix)),
        (EmailSuppression, Q(address__iexact=email)),
        (PendingImport, Q(created_by_id=user_id)),
        (CannedReply, Q(owner_id=user_id)),
        (TeamMember, Q(user_id=user_id)),
        (Ticket.watchers.through, Q(user_id=user_id)),
        (BusinessUnitGroup.spocs.through, Q(user_id=user_id)),
        (ApprovalRule.users.through, Q(user_id=user_id)),
        (Delegation, Q(user_id=user_id) | Q(delegate_id=user_id)),
    ]
    return [
        (
            model._meta.label,
            lambda model=model, condition=condition: model._base_manager.filter(condition),
        )
        for model, condition in deleted
    ]


def _own(request: ErasureRequest, batch: int) -> bool:
    user_id, email = request.user_id, request.email
    if not request.cursor_model:
        # Small, bounded updates done once, at the start of the phase:
        # a departed manager approves nothing more: their reports' requests go to whoever
        # the rules name when nobody is their manager (see docs/approvals.md) …
        User.objects.filter(manager_id=user_id).update(manager=None)
        # … and security events stay (the organisation's audit trail), without where they
        # came from.
        SecurityEvent.objects.filter(Q(user_id=user_id) | Q(email__iexact=email)).exclude(
            ip_address=None
        ).update(ip_address=None)
    owned = _owned(user_id, email)
    labels = [label for label, _rows in owned]
    at = labels.index(request.cursor_model) if request.cursor_model in labels else 0
    label, rows = owned[at]
    ids = list(rows().order_by("pk").values_list("pk", flat=True)[:batch])
    if label == "mailin.InboundMessage" and ids:
        # The mail they sent, kept as read by email in, goes with its ledger rows: its
        # stored copies are handed to the pending sweep (no storage call in here).
        delete_later(
            list(
                InboundMessage.objects.filter(pk__in=ids)
                .exclude(raw_key="")
                .values_list("raw_key", flat=True)
            )
        )
    if ids:
        count, _by_model = rows().filter(pk__in=ids).delete()
        _add(request, "deleted", label, count)
    if len(ids) == batch:
        request.cursor_model = label
        return False
    if at + 1 == len(owned):
        return True
    request.cursor_model = labels[at + 1]
    return False


# The text columns whose HTML the ticket page caches (portal.lib.markdown.render_many).
RENDERED_TEXTS = {(Ticket, "description"), (Comment, "body")}


def rewrite_targets() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every model with text or JSON columns the rewrite reads, in a stable order."""
    found = []
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        label = model._meta.label
        if label in NOT_REWRITTEN or model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, TEXT_FIELDS) and not f.choices and not f.primary_key
        ]
        if fields:
            found.append((model, fields))
    return found


def _rewrite(request: ErasureRequest, batch: int) -> bool:
    """One window of `batch` primary keys of one table: the rows in it that mention the
    person are rewritten; the cursor moves past the window."""
    targets = rewrite_targets()
    labels = [model._meta.label for model, _fields in targets]
    at = labels.index(request.cursor_model) if request.cursor_model in labels else 0
    if request.cursor_model not in labels:
        request.cursor_pk = ""
    model, fields = targets[at]
    rows = model._base_manager.all()
    if request.cursor_pk:
        rows = rows.filter(pk__gt=model._meta.pk.to_python(request.cursor_pk))
    window = list(rows.order_by("pk").values_list("pk", flat=True)[:batch])
    rewrite = _Rewrite(
        name=request.name,
        email=request.email,
        pseudonym=request.pseudonym,
        new_email=erased_email(request.user),
    )
    if window:
        changed = rewrite.rows(model, fields, window)
        _add(request, "rewritten", model._meta.label, len(changed))
        # Ticket pages cache the HTML of descriptions and comments under a digest of their
        # text: the old text's entry still holds the name. Dropped after the commit (a
        # page that read the old text just before could still store it again, and a
        # process-local cache of a web server is out of the worker's reach: both expire
        # with CACHE_SECONDS). Robust: the rewrite is committed, and a cache that does not
        # answer must not fail the erasure.
        if rewrite.replaced_texts:
            transaction.on_commit(partial(markdown.forget, rewrite.replaced_texts), robust=True)
        if changed and model is Article and connection.vendor == "postgresql":
            Article.objects.filter(search_document__isnull=False, pk__in=changed).update(
                search_document=article_vector()
            )
    if len(window) == batch:
        request.cursor_model, request.cursor_pk = model._meta.label, str(window[-1])
        return False
    if at + 1 == len(targets):
        return True
    request.cursor_model, request.cursor_pk = labels[at + 1], ""
    return False


def _account(request: ErasureRequest, batch: int) -> bool:
    return True  # done in _finish, with the request's own last write


_PHASE_WORK: dict[str, Callable[[ErasureRequest, int], bool]] = {
    "files": _files,
    "own": _own,
    "rewrite": _rewrite,
    "account": _account,
}


def _finish(request: ErasureRequest) -> list[str]:
    """Anonymise the account, forget the name and email, and close the request."""
    user = request.user
    user.full_name = request.pseudonym
    user.email = erased_email(user)
    user.is_active = user.is_staff = user.is_superuser = user.on_triage_duty = False
    user.last_login = None
    user.set_unusable_password()
    user.save(
        update_fields=[
            "full_name", "email", "is_active", "is_staff", "is_superuser", "on_triage_duty",
            "last_login", "password",
        ]
    )  # fmt: skip
    user.groups.clear()
    user.user_permissions.clear()
    request.state, request.name, request.email = State.DONE, "", ""
    request.finished_at = timezone.now()
    # Files and stored mail were handed to the pending sweep; it runs once this commits.
    transaction.on_commit(_sweep_files)
    security_log.warning(
        "person erased",
        extra={
            "user_id": user.pk,
            "actor_id": request.requested_by_id,
            "request_id": request.pk,
            "files": request.counts.get("files", 0),
            "deleted": request.counts.get("deleted", {}),
            "rewritten": request.counts.get("rewritten", {}),
        },
    )
    return ["state", "name", "email", "finished_at"]


def _sweep_files() -> None:
    from portal.tickets.tasks import cleanup_orphan_attachments_task

    # After the erasure commits (with a queue outside the database), so the sweep sees it.
    enqueue_with_data(cleanup_orphan_attachments_task)


class _Rewrite:
    """Replace the name and the email in the text and JSON columns of a table's rows."""

    def __init__(self, *, name: str, email: str, pseudonym: str, new_email: str) -> None:
        self.terms = [t for t in (name.strip(), email) if len(t) >= 3]
        # The ticket texts as they were before the rewrite: the cache may hold their HTML.
        self.replaced_texts: list[str] = []
        words = name.split()
        self.patterns: list[tuple[re.Pattern[str], str]] = [
            (re.compile(re.escape(email), re.IGNORECASE), new_email),
        ]
        if words and len(name.strip()) >= 3:
            spaced = r"\s+".join(re.escape(word) for word in words)
            self.patterns.insert(
                0, (re.compile(rf"(?<!\w){spaced}(?!\w)", re.IGNORECASE), pseudonym)
            )

    def rows(self, model: type[models.Model], fields: list[models.Field], pks: list) -> list:
        """Rewrite the rows among `pks` that mention the person; their primary keys."""
        if not self.terms:
            return []
        condition = Q()
        for f in fields:
            for term in self.terms:
                condition |= Q(**{f"{f.attname}__icontains": term})
        rows = (
            model._base_manager.filter(pk__in=pks)
            .filter(condition)
            .only("pk", *(f.attname for f in fields))
        )
        changed = []
        for row in rows:
            updates = {}
            for f in fields:
                value = getattr(row, f.attname)
                new = self._json(value) if isinstance(f, models.JSONField) else self._text(value)
                if new != value:
                    updates[f.attname] = new
                    if (model, f.attname) in RENDERED_TEXTS:
                        self.replaced_texts.append(value)
            if updates:
                model._base_manager.filter(pk=row.pk).update(**updates)
                changed.append(row.pk)
        return changed

    def _text(self, value):
        if not isinstance(value, str):
            return value
        for pattern, replacement in self.patterns:
            value = pattern.sub(replacement, value)
        return value

    def _json(self, value):
        return json.loads(self._text(json.dumps(value, ensure_ascii=False)))
