"""Cache versions are one for every process of the host: a write in one app server worker
(or the task worker) makes what the others cached stale at once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from portal.lib.cache_versions import versioned_key
from portal.testing.database import ROOT

pytestmark = pytest.mark.skipif(
    bool(settings.CACHE_URL), reason="with CACHE_URL the versions are in the shared Redis"
)


def in_another_process(code: str) -> None:
    """`code` run by another process of the same host, configured like `make run`."""
    var_dir = Path(settings.CACHES["versions"]["LOCATION"]).parents[1]
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "REDIS_URL"}}
    subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env={**env, "VAR_DIR": str(var_dir)}, check=True, capture_output=True,
    )  # fmt: skip


def test_a_bump_in_another_process_makes_this_ones_entries_stale():
    key = versioned_key("masters", "teams")
    cache.set(key, ["Team before the rename"], 60)
    in_another_process("from portal.lib.cache_versions import bump; bump('masters')")
    assert versioned_key("masters", "teams") != key  # the next read misses and reads again


@pytest.fixture
def team(db):
    from portal.catalog.models import Team

    return Team.objects.create(name="Printers")


def _cached_name(team) -> str:
    from portal.catalog.selectors import master_row

    return master_row("team", team.pk).name


def _rename(team, name: str) -> None:
    from portal.catalog.invalidation import MASTERS
    from portal.catalog.models import Team
    from portal.lib.cache_versions import bump

    Team.objects.filter(pk=team.pk).update(name=name)  # a bulk write: no signal
    bump(MASTERS)


@pytest.mark.django_db(transaction=True)
def test_what_a_rolled_back_write_read_is_never_served_to_others(team):
    from django.db import transaction

    assert _cached_name(team) == "Printers"
    with pytest.raises(RuntimeError), transaction.atomic():
        _rename(team, "Never committed")
        assert _cached_name(team) == "Never committed"  # the writer sees its own write
        raise RuntimeError
    assert _cached_name(team) == "Printers"


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_is_what_everyone_reads_next(team):
    from django.db import transaction

    assert _cached_name(team) == "Printers"
    with transaction.atomic():
        _rename(team, "Print and scan")
        assert _cached_name(team) == "Print and scan"
    assert _cached_name(team) == "Print and scan"
