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
