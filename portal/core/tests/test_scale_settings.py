"""Mistakes in the settings of more than one machine stop the process at start-up with a
message naming the setting (docs/scaling.md), instead of misbehaving under load."""

import os
import subprocess
import sys

import pytest

from portal.testing.database import ROOT

PG = "postgres://postgres@127.0.0.1:5432/portal"


def check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "", "DATABASE_REPLICA_URL": PG},
            "DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL",
        ),
        (
            {"DATABASE_URL": PG, "DATABASE_REPLICA_URL": PG, "REPLICA_MAX_LAG_SECONDS": "30",
             "REPLICA_READ_YOUR_WRITES_SECONDS": "10"},
            "REPLICA_READ_YOUR_WRITES_SECONDS must be at least",
        ),
        ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL must be a redis://"),
        (
            {"TASKS_BACKEND": "redis", "TASKS_REDIS_URL": "", "REDIS_URL": ""},
            "needs TASKS_REDIS_URL",
        ),
    ],
    ids=["replica-without-postgres", "read-your-writes-shorter-than-lag", "cache-not-redis",
         "redis-tasks-without-url"],
)  # fmt: skip
def test_a_bad_scaling_setting_stops_start_up_with_its_name(env, message):
    done = check(**env)
    assert done.returncode != 0
    assert message in done.stderr
