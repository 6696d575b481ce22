"""Migration 0002: tokens minted with "never" get an expiry before the column is required."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("api", "0001_initial")], [("api", "0002_tokens_always_expire")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_tokens_without_expiry_get_their_allowance_or_a_grace_period(personas):
    old_apps = migrate(BEFORE)
    ApiToken = old_apps.get_model("api", "ApiToken")
    now = timezone.now()
    ages = {"young": 10, "middle": 340, "old": 800}
    for name, age in ages.items():
        ApiToken.objects.create(
            user_id=personas.agent.pk,
            name=name,
            prefix="ptk_x",
            digest=f"digest-{name}",
            created_at=now - dt.timedelta(days=age),
            expires_at=None,
        )
    set_expiry = now + dt.timedelta(days=7)
    ApiToken.objects.create(
        user_id=personas.agent.pk, name="set", prefix="ptk_y", digest="d-set", expires_at=set_expiry
    )
    new_apps = migrate(AFTER)
    rows = {t.name: t for t in new_apps.get_model("api", "ApiToken").objects.all()}
    left = {name: (rows[name].expires_at - now).days for name in ages}
    # Up to 365 days from creation, but never less than 30 days from the migration.
    assert left == {"young": 355, "middle": 30, "old": 30}
    assert rows["set"].expires_at == set_expiry
