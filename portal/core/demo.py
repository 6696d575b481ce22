"""Demo data for `make run`: believable, idempotent, never loaded in production."""

from django.db import transaction

from portal.accounts.models import User

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
]


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
        users.append(user)
    return users


def load_demo() -> dict[str, int]:
    """Everything `make run` shows. Each loader is idempotent; returns counts per kind.

    Each app owns its demo data in `<app>/demo.py` with a `load(users)` function that takes
    the demo users by email and returns counts; they run in dependency order.
    """
    from importlib import import_module
    from importlib.util import find_spec

    users = {user.email: user for user in load_demo_users()}
    counts = {"users": len(users)}
    for app in ("catalog", "sla", "tickets"):
        module_name = f"portal.{app}.demo"
        if find_spec(module_name) is not None:
            counts.update(import_module(module_name).load(users))
    return counts
