"""Demo data for `make run`: believable, idempotent, never loaded in production."""

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.services import user_update

DEMO_PASSWORD = "portal-demo"  # noqa: S105 (published in the README on purpose)

DEMO_USERS = [
    # email, full name, admin
    ("admin@example.com", "Ada Admin", True),
    ("spoc@example.com", "Sam Spoc", False),
    ("lead@example.com", "Lee Lead", False),
    ("agent@example.com", "Alex Agent", False),
    ("agent2@example.com", "Avery Agent", False),
    ("employee@example.com", "Emma Employee", False),
    ("employee2@example.com", "Eli Employee", False),
    # The other teams' people (see the catalog demo's TEAMS and the README's demo table).
    ("netsec.lead@example.com", "Nadia Novak", False),
    ("apps.lead@example.com", "Omar Osei", False),
    ("hr.lead@example.com", "Hana Hughes", False),
    ("hr.agent@example.com", "Hugo Hall", False),
    ("finance.lead@example.com", "Fiona Finch", False),
    ("finance.agent@example.com", "Felix Ford", False),
    ("facilities.lead@example.com", "Farah Field", False),
    ("facilities.agent@example.com", "Theo Tran", False),
]


# Whose manager approves their requests that need it (Payroll › Salary change).
DEMO_MANAGERS = {
    "employee@example.com": "lead@example.com",
    "employee2@example.com": "lead@example.com",
}


@transaction.atomic
def load_demo_users() -> list[User]:
    """Create the demo accounts, or leave them as they are if they exist."""
    users = []
    for email, full_name, admin in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, full_name=full_name, is_staff=admin, is_superuser=admin
            )
        if admin and not user.on_triage_duty:
            # The last step of routing: tickets no team member or SPOC can take reach Ada.
            user.on_triage_duty = True
            user.save(update_fields=["on_triage_duty"])
        users.append(user)
    for user in users:
        manager = DEMO_MANAGERS.get(user.email)
        if manager and user.manager_id is None:
            user_update(user=user, actor=None, full_name=user.full_name, manager_email=manager)
    return users


def load_demo() -> dict[str, int]:
    """Everything `make run` shows. Each loader is idempotent; returns counts per kind.

    Each app owns its demo data in `<app>/demo.py` with a `load(users)` function that takes
    the demo users by email and returns counts; they run in dependency order.
    """
    from importlib import import_module
    from importlib.util import find_spec

    from portal.notifications.services import emails_paused

    started = timezone.now()
    users = {user.email: user for user in load_demo_users()}
    counts = {"users": len(users)}
    # The history is replayed through the real services, which notify as they go: the
    # in-app notifications are kept (most marked read below), but nobody is emailed about
    # weeks of events that never happened (a first start queued about 1,400 emails).
    with emails_paused():
        for app in ("catalog", "sla", "kb", "tickets", "analytics"):
            module_name = f"portal.{app}.demo"
            if find_spec(module_name) is not None:
                counts.update(import_module(module_name).load(users))
    quiet_demo_history(since=started)
    return counts


# What a person would still have unread after the weeks of history the demo replays
# through the services.
DEMO_UNREAD_PER_USER = 5


def quiet_demo_history(*, since) -> None:
    """The demo's tickets are worked through the real services, which notify as they go:
    hundreds of in-app notifications about "past" events. Keep a believable few (the
    newest unread per person) and mark the rest read, so `make run` does not open on a
    flood."""
    from portal.notifications import notice_services
    from portal.notifications.models import Notification, PendingNotice

    # The events' notices are the worker's to deliver; the demo delivers its history's now,
    # so that it can quiet them (a worker starting later would find them all unread).
    notice_services.notices_expand(
        PendingNotice.objects.order_by("pk").values_list("pk", flat=True)
    )
    for user_id in set(
        Notification.objects.filter(created_at__gte=since).values_list("recipient_id", flat=True)
    ):
        recent = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        keep = list(recent.order_by("-created_at", "-id").values_list("id", flat=True)[
            :DEMO_UNREAD_PER_USER
        ])  # fmt: skip
        recent.exclude(id__in=keep).update(read_at=timezone.now())
