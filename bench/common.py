"""What the benchmark scripts share: database names, Django set-up, the known password."""

import datetime as dt
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Results go to the checkout the run was started for (bench/at-commit.sh runs a clean export
# of a commit elsewhere and points this back at the working tree).
OUTPUT_ROOT = Path(os.environ.get("BENCH_OUTPUT_ROOT") or ROOT)
RESULTS = OUTPUT_ROOT / "bench" / "results"

# Every generated user has this password (hashed once, the same hash on every row).
PASSWORD = "bench-Pa55word-2026"  # noqa: S105 - a throwaway benchmark database
PREFIX = "portal_bench_"
SIZES = (10_000, 100_000, 1_000_000)


def tickets_from_env(default: int = 10_000) -> int:
    raw = os.environ.get("BENCH_TICKETS", "") or str(default)
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise SystemExit(f"BENCH_TICKETS must be a whole number, got {raw!r}") from None
    if value < 100:
        raise SystemExit("BENCH_TICKETS must be at least 100")
    return value


def database_name(tickets: int, override: str | None = None) -> str:
    name = override or f"{PREFIX}{tickets}"
    if not name.startswith(PREFIX):
        raise SystemExit(f"The benchmark only uses its own databases ({PREFIX}*), not {name!r}")
    return name


def database_url(name: str) -> str:
    """The server of BENCH_DATABASE_URL or DATABASE_URL (else local), database `name`."""
    base = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    parts = urlsplit(base)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def conninfo(url: str) -> str:
    """psycopg wants postgresql:// (dj-database-url also accepts postgres://)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def var_dir(url: str) -> Path:
    """Files of one benchmark database (attachments, mail): apart from var/, whose orphan
    clean-up (a `make run` worker) would delete files its own database does not know."""
    return ROOT / "var" / "bench" / urlsplit(url).path.lstrip("/")


def production_env(url: str) -> dict[str, str]:
    """The portal's production settings, served over plain HTTP on loopback."""
    return {
        "VAR_DIR": str(var_dir(url)),
        "DEBUG": "0",
        "HTTPS_ONLY": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "APP_URL": "http://127.0.0.1",
        "STATIC_MANIFEST": "0",
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        # The personas sign in with a password only; a second factor is not what is measured.
        "TWO_FACTOR_REQUIRED": "off",
    }


def setup_django(url: str) -> None:
    """Configure Django in this process for the benchmark database (production settings).

    Once per process: the first call's database stays configured.
    """
    import django
    from django.apps import apps

    if apps.ready:
        return
    sys.path.insert(0, str(ROOT))
    for key, value in production_env(url).items():
        os.environ[key] = value
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    django.setup()


def stamp(seconds: float) -> str:
    """A Unix time as an ISO 8601 UTC timestamp, the form the COPY loaders write."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def timed_get(client, url: str, runs: int) -> tuple[float, float]:
    """GET `url` `runs` times after one warm-up (connection, session refresh, caches);
    each answer must be 200. Returns the median and p95 in ms."""
    client.get(url)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]
