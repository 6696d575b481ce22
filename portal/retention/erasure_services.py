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

What goes: their files (rows now; objects by the pending-object sweep, enqueued on
commit, so no storage call happens in the transaction), sessions, API tokens, company
sign-in bindings, two-factor devices, notifications, mail to them and the mail they sent
in (outbox rows and the email-in ledger), email preferences, sign-in counters and reset
requests for their address, personal canned replies, memberships, SPOC seats, watching.

What is rewritten: every text and JSON column of every table (history, comment bodies,
other people's notifications and mail, webhook bodies, the admin site's log, …) where the
full name (as whole words, any case, any spacing) or the email appears. The full-text
search of tickets reads these columns, so it changes with them; the stored vectors of
knowledge-base articles are recomputed. A first name alone is not matched: it is not
unique enough to rewrite without damaging other people's text.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
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
)
from portal.accounts.sessions import sessions_end_for_user
from portal.api.models import ApiToken
from portal.approvals.models import Delegation
from portal.attachments.cleanup import delete_later
from portal.catalog.models import ApprovalRule, BusinessUnitGroup, PendingImport, TeamMember
from portal.kb.models import Article
from portal.kb.search import article_vector
from portal.lib.errors import Conflict
from portal.mailin.models import InboundMessage
from portal.notifications.models import (
    EmailDelivery,
    EmailPreference,
    EmailSuppression,
    Notification,
)
from portal.replies.models import CannedReply
from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, Attachment, Ticket

security_log = logging.getLogger("portal.security")

PSEUDONYM_PREFIX = "Former employee "
ERASED_DOMAIN = "erased.invalid"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)
# Tables the rewrite leaves alone: the account itself is anonymised field by field, and
# sessions are deleted (others' session data is signed and encoded, never plain text).
NOT_REWRITTEN = {"accounts.User", "sessions.Session"}


class ErasureRefused(Conflict):
    """The person still holds something others depend on; nothing was changed."""


def pseudonym_code(user: User) -> str:
    return salted_hmac("portal.retention.erasure", str(user.pk), algorithm="sha256").hexdigest()[:6]


def pseudonym(user: User) -> str:
    return f"{PSEUDONYM_PREFIX}{pseudonym_code(user)}"


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


def person_erase(*, user: User, actor: User) -> Erasure:
    """Erase `user` (see the module's docstring). One transaction: all of it or nothing.
    Refuses, before writing, when the person is the actor, is already erased, has open
    tickets assigned, is the only SPOC of an active group or the last admin on triage duty
    while a routing gap exists (that check runs under lock in `accounts.user_update`)."""
    check_erasable(user, actor=actor)
    name, email = user.full_name, user.email
    result = Erasure(pseudonym=pseudonym(user))
    with transaction.atomic():
        # Deactivation hands on what routing would have given them and takes them off
        # triage duty (refused when they are the last one while a gap exists).
        accounts.user_update(
            user=user,
            actor=actor,
            full_name=result.pseudonym,
            is_active=False,
            is_staff=False,
            on_triage_duty=False,
        )
        result.files = _delete_files(user, result)
        _delete_own_rows(user, email, result)
        user.email = f"former-{pseudonym_code(user)}-{user.pk}@{ERASED_DOMAIN}"
        user.is_superuser = False
        user.last_login = None
        user.set_unusable_password()
        user.save(update_fields=["email", "is_superuser", "last_login", "password"])
        user.groups.clear()
        user.user_permissions.clear()
        rewrite = _Rewrite(name=name, email=email, pseudonym=result.pseudonym, new_email=user.email)
        result.rewritten = rewrite.everywhere()
        if "kb.Article" in result.rewritten and connection.vendor == "postgresql":
            Article.objects.filter(search_document__isnull=False).filter(
                pk__in=rewrite.changed_ids["kb.Article"]
            ).update(search_document=article_vector())
        if result.files:
            transaction.on_commit(_sweep_files)
    security_log.warning(
        "person erased",
        extra={
            "user_id": user.pk,
            "actor_id": actor.pk,
            "files": result.files,
            "deleted": result.deleted,
            "rewritten": result.rewritten,
        },
    )
    return result


def _sweep_files() -> None:
    from portal.lib.tasks import enqueue_with_data
    from portal.tickets.tasks import cleanup_orphan_attachments_task

    # After the erasure commits (with a queue outside the database), so the sweep sees it.
    enqueue_with_data(cleanup_orphan_attachments_task)


def _delete_files(user: User, result: Erasure) -> int:
    rows = list(
        access.system_read(Attachment).filter(uploader=user).values_list("pk", "storage_key")
    )
    if rows:
        delete_later([key for _pk, key in rows])
        access.system_read(Attachment).filter(pk__in=[pk for pk, _key in rows]).delete()
    result.deleted["tickets.Attachment"] = len(rows)
    return len(rows)


def _delete_own_rows(user: User, email: str, result: Erasure) -> None:
    sessions_end_for_user(user)
    pair_prefix = f"pair:{email.lower()}|"
    owned: list[tuple[type[models.Model], Q]] = [
        (ApiToken, Q(user=user)),
        (SsoIdentity, Q(user=user)),
        (TOTPDevice, Q(user=user)),
        (PasskeyDevice, Q(user=user)),
        (StaticDevice, Q(user=user)),
        (Notification, Q(recipient=user)),
        (EmailPreference, Q(user=user)),
        (EmailDelivery, Q(recipient=user) | Q(to_address__iexact=email)),
        (InboundMessage, Q(sender__iexact=email)),
        (PasswordResetRequest, Q(email__iexact=email)),
        (LoginThrottle, Q(key=f"account:{email.lower()}") | Q(key__startswith=pair_prefix)),
        (EmailSuppression, Q(address__iexact=email)),
        (PendingImport, Q(created_by=user)),
        (CannedReply, Q(owner=user)),
        (TeamMember, Q(user=user)),
        (Ticket.watchers.through, Q(user=user)),
        (BusinessUnitGroup.spocs.through, Q(user=user)),
        (ApprovalRule.users.through, Q(user=user)),
        (Delegation, Q(user=user) | Q(delegate=user)),
    ]
    # A departed manager approves nothing more: their reports' requests go to whoever the
    # rules name when nobody is their manager (see docs/approvals.md).
    User.objects.filter(manager=user).update(manager=None)
    # The mail they sent, kept as read by email in, goes with its ledger rows: its stored
    # copies are handed to the pending sweep (the storage is never called in here).
    delete_later(
        list(
            InboundMessage.objects.filter(sender__iexact=email)
            .exclude(raw_key="")
            .values_list("raw_key", flat=True)
        )
    )
    # Security events stay (the organisation's audit trail), without where they came from.
    SecurityEvent.objects.filter(Q(user=user) | Q(email__iexact=email)).update(ip_address=None)
    for model, condition in owned:
        count, _by_model = model._default_manager.filter(condition).delete()
        if count:
            result.deleted[model._meta.label] = count


class _Rewrite:
    """Replace the name and the email in every text and JSON column of every table."""

    def __init__(self, *, name: str, email: str, pseudonym: str, new_email: str) -> None:
        self.terms = [t for t in (name.strip(), email) if len(t) >= 3]
        words = name.split()
        self.patterns: list[tuple[re.Pattern[str], str]] = [
            (re.compile(re.escape(email), re.IGNORECASE), new_email),
        ]
        if words and len(name.strip()) >= 3:
            spaced = r"\s+".join(re.escape(word) for word in words)
            self.patterns.insert(
                0, (re.compile(rf"(?<!\w){spaced}(?!\w)", re.IGNORECASE), pseudonym)
            )
        self.changed_ids: dict[str, list[Any]] = {}

    def everywhere(self) -> dict[str, int]:
        counts = {}
        for model in apps.get_models():
            label = model._meta.label
            if label in NOT_REWRITTEN or model._meta.proxy or not model._meta.managed:
                continue
            fields = [
                f
                for f in model._meta.concrete_fields
                if isinstance(f, TEXT_FIELDS) and not f.choices and not f.primary_key
            ]
            if fields and (changed := self._model(model, fields)):
                counts[label] = changed
        return counts

    def _model(self, model: type[models.Model], fields: list[models.Field]) -> int:
        condition = Q()
        for f in fields:
            for term in self.terms:
                condition |= Q(**{f"{f.attname}__icontains": term})
        rows = model._base_manager.filter(condition).only("pk", *(f.attname for f in fields))
        changed = 0
        for row in rows.iterator(chunk_size=500):
            updates = {}
            for f in fields:
                value = getattr(row, f.attname)
                new = self._json(value) if isinstance(f, models.JSONField) else self._text(value)
                if new != value:
                    updates[f.attname] = new
            if updates:
                model._base_manager.filter(pk=row.pk).update(**updates)
                self.changed_ids.setdefault(model._meta.label, []).append(row.pk)
                changed += 1
        return changed

    def _text(self, value):
        if not isinstance(value, str):
            return value
        for pattern, replacement in self.patterns:
            value = pattern.sub(replacement, value)
        return value

    def _json(self, value):
        return json.loads(self._text(json.dumps(value, ensure_ascii=False)))
