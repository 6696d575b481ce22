"""Approval fixtures: a manager for the requester, rules on the organisation's Hardware
category, and tickets raised through the service (so every test starts from a real
awaiting ticket with its steps opened)."""

import pytest

from portal.accounts.models import User
from portal.catalog.models import ApprovalRule
from portal.testing.personas import PASSWORD
from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the tickets tests
    raise_ticket,
)

Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode


@pytest.fixture
def manager(personas):
    """Mia, the requester's manager (no other role)."""
    user = User.objects.create_user("manager@example.com", PASSWORD, full_name="Mia Manager")
    personas.requester.manager = user
    personas.requester.save(update_fields=["manager"])
    return user


@pytest.fixture
def rule(org):
    """`rule(approvers, mode=…, users=…, on=…)`: a step on Hardware (or `on` a subcategory)."""

    def make(approvers, *, mode=Mode.ANY, users=(), on=None, position=1):
        where = {"subcategory": on} if on is not None else {"category": org.hardware}
        created = ApprovalRule.objects.create(
            approvers=approvers, mode=mode, position=position, **where
        )
        created.users.set(users)
        return created

    return make


@pytest.fixture
def awaiting(raise_ticket, manager, rule):  # noqa: F811 - the imported fixture
    """The requester's laptop ticket, waiting for their manager's approval."""
    rule(Approvers.MANAGER)
    return raise_ticket()
