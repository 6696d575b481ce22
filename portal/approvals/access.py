"""Who may decide what: an approver decides their own rows; while they are away, their
delegate decides them too. Nobody decides on a ticket they raised. Every surface (page,
signed link, API) asks these, so they never disagree.
"""

import datetime as dt

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import is_admin, user_roles
from portal.approvals.models import ApprovalStep, Approver, Delegation
from portal.lib.cache_versions import bump, versioned_key

# The header's count is on every page: cached per person under the "approvals" version,
# which every approval write bumps (`forget_pending_counts`), and per day, so a delegation
# that starts or ends at midnight counts from then; the timeout bounds anything else (a
# person deactivated while someone stood in for them).
APPROVALS_VERSION = "approvals"
COUNT_SECONDS = 300


def delegators(user: User, on: dt.date | None = None) -> list[int]:
    """The people `user` stands in for on `on` (today): their delegations covering it."""
    on = on or timezone.localdate()
    return list(
        Delegation.objects.filter(delegate=user, starts_on__lte=on, ends_on__gte=on)
        .filter(user__is_active=True)
        .values_list("user_id", flat=True)
    )


def acting_for(user: User, on: dt.date | None = None) -> list[int]:
    """Whose approvals `user` may decide: their own and their delegators'."""
    return [user.pk, *delegators(user, on)]


def _acting(user: User) -> Q:
    """Rows of `user` or of the people they stand in for today, as one condition (a
    subquery for the delegations, so no query of its own)."""
    on = timezone.localdate()
    standing_in = Delegation.objects.filter(
        delegate=user, starts_on__lte=on, ends_on__gte=on, user__is_active=True
    ).values("user_id")
    return Q(user=user) | Q(user_id__in=standing_in)


def _pending(user: User) -> QuerySet[Approver]:
    return Approver.objects.filter(
        _acting(user),
        decision=Approver.Decision.PENDING,
        step__state=ApprovalStep.State.PENDING,
    ).exclude(step__ticket__requester=user)


def pending_rows(user: User) -> QuerySet[Approver]:
    """Approvals waiting for `user` (or for someone they stand in for) on an open step,
    oldest first, with what the list shows loaded (one query)."""
    return (
        _pending(user)
        .select_related(
            "user",
            "step__ticket__requester",
            "step__ticket__group",
            "step__ticket__category",
            "step__ticket__subcategory",
        )
        .order_by("step__opened_at", "step_id", "id")
    )


def get_step_for_user(user: User, step_id: int) -> ApprovalStep:
    """A step `user` is (or stands in for) an approver of, else 404: someone with no part
    in an approval does not learn it exists."""
    acting = acting_for(user)
    step = (
        ApprovalStep.objects.select_related(
            "ticket__requester", "ticket__group", "ticket__category", "ticket__subcategory"
        )
        .filter(pk=step_id)
        .filter(Q(approvers__user_id__in=acting))
        .distinct()
        .first()
    )
    if step is None:
        raise Http404("No such approval.")
    return step


def pending_count(user: User) -> int:
    """How many approvals wait for `user` (the header's count): from the cache, else one
    query."""
    key = versioned_key(APPROVALS_VERSION, user.pk, timezone.localdate().isoformat())
    count = cache.get(key)
    if count is None:
        count = _pending(user).count()
        cache.set(key, count, COUNT_SECONDS)
    return count


def forget_pending_counts() -> None:
    """Everyone's next page counts again (a step opened or closed, a decision, a
    delegation changed): approvals change rarely beside page views, and a delegate's
    count moves with their delegator's, so one version for all is simplest and exact."""
    bump(APPROVALS_VERSION)


def visible_delegations(user: User) -> QuerySet[Delegation]:
    """The delegations `user` may see: an admin every one; anyone else those they gave
    or received."""
    if is_admin(user):
        return Delegation.objects.all()
    return Delegation.objects.filter(Q(user=user) | Q(delegate=user))


def figures_scope(user: User) -> Q | None:
    """Which decided steps `user` may count in the approval figures: every one for an
    admin, those of the tickets of their own groups for a SPOC (by the ticket's group, as
    the ticket access layer scopes a SPOC), none (None: 403) for anyone else."""
    roles = user_roles(user)
    if roles.is_admin:
        return Q()
    if roles.is_spoc:
        return Q(ticket__group_id__in=sorted(roles.spoc_group_ids))
    return None
