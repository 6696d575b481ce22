"""`make scale-demo` as a test (docs/scaling.md): HAProxy, two gunicorn app servers, two
task workers, a PostgreSQL primary and streaming replica behind pgbouncer in transaction
pooling, and Redis, all private on loopback ports. Load runs through HAProxy while an app
server is killed and the replica stopped; every check of portal/testing/scale_demo.py must
hold. About two minutes on two cores, most of it starting the servers."""

import contextlib
import os
import shutil

import pytest

from portal.testing.scale_demo import Demo

pytestmark = [pytest.mark.scale, pytest.mark.xdist_group("scale-demo")]


def test_two_app_servers_two_workers_a_replica_and_a_pooler_keep_every_promise():
    for tool in ("haproxy", "pgbouncer", "redis-server"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    # Its own folder under /tmp (not pytest's, which the postgres user cannot enter).
    demo = Demo(say=lambda line: None)
    passed = False
    try:
        demo.start()
        results = demo.run(seconds=24)  # raises AssertionError naming the check that failed
        passed = True
    finally:
        if not passed:
            print(f"Logs of the failed run: {demo.dir}")
            with contextlib.suppress(OSError):
                print(demo.log_tails())
        demo.stop(keep_files=not passed)  # every server's log stays for a failure
    assert len(results) == 9, results
