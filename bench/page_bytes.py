"""Write the list, search, team-queue, dashboard, API-list and notification pages of every
persona to a directory, CSRF tokens and nonces masked, to compare two commits byte for byte.

    BENCH_TICKETS=100000 bench/at-commit.sh <commit> page_bytes.py /tmp/before
    BENCH_TICKETS=100000 .venv/bin/python bench/page_bytes.py /tmp/after
    diff -r /tmp/before /tmp/after

Each URL is read full and as htmx (the results alone), and the next page where there is
one. The database is the benchmark's (bench/generate.py); nothing is written to it but
the sessions.
"""

import re
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.run import read_info  # noqa: E402

MASKS = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'nonce="[^"]+"'), b'nonce=""'),
    (re.compile(rb'"csrfToken": ?"[^"]+"'), b'"csrfToken": ""'),
    (re.compile(rb"csrf[-_]token[^>]*?content=\"[^\"]+\""), b"csrf-token"),
]
NEXT = re.compile(rb'href="\?([^"]*after=[^"&]+[^"]*)"')


def urls(info: dict, team_id: int, group_id: int) -> list[str]:
    words = info["search"]
    from portal.tickets.models import format_number

    number = format_number(info["showcase"][0])
    filtered = urlencode(
        [("view", "all"), ("status", "new"), ("status", "in_progress"), ("priority", "high"),
         ("priority", "urgent"), ("group", group_id), ("sort", "-priority")]
    )  # fmt: skip
    return [
        *(f"/tickets?view={view}" for view in
          ("all", "mine", "watching", "assigned", "team", "unassigned", "waiting")),
        f"/tickets?{filtered}",
        f"/tickets?view=all&status=new&status=in_progress&status=on_hold&team={team_id}&sort=-created",
        "/tickets?view=all&team=none",
        "/tickets?sort=sla_due",
        "/tickets?sort=updated&per_page=50",
        "/tickets?assignee=me",
        "/tickets?assignee=none&requester=me",
        f"/tickets?q={words['common']}",
        "/tickets?" + urlencode({"q": words["medium"]}),
        f"/tickets?q={words['rare']}",
        f"/tickets?q={words['none']}",
        f"/tickets?q={number}",
        "/tickets?q=printer&sort=-created",
        "/tickets?created_from=2020-01-01",
        "/dashboard",
        "/api/v1/tickets",
        "/api/v1/tickets?q=printer",
        # Ages ("3 days, 2 hours ago") move with the clock: compare runs close in time.
        "/notifications",
        "/notifications?show=unread",
    ]  # fmt: skip


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    url = common.database_url(common.database_name(common.tickets_from_env()))
    common.setup_django(url)
    info = read_info(url)

    from django.test import Client

    from portal.accounts.models import User
    from portal.catalog.models import Team

    team = Team.objects.order_by("name").first()
    assert team is not None
    written = 0
    for role in ("admin", "requester", "agent", "lead", "spoc"):
        client = Client()
        user = User.objects.get(pk=info["personas"][role]["id"])
        client.force_login(user)
        client.get("/dashboard")
        for path in urls(info, team.pk, info["top_group"]):
            pages = [(path, {}), (path, {"HTTP_HX_REQUEST": "true"})]
            for index, (target, extra) in enumerate(pages):
                response = client.get(target, **extra)
                body = response.content
                for pattern, replacement in MASKS:
                    body = pattern.sub(replacement, body)
                name = re.sub(r"[^A-Za-z0-9=&._-]+", "_", f"{role}{target}")[:180]
                name += "-htmx" if extra else ""
                (out / f"{name}.html").write_bytes(f"{response.status_code}\n".encode() + body)
                written += 1
                found = NEXT.search(response.content)
                if index == 0 and found and path.startswith("/tickets"):
                    pages.append(("/tickets?" + found[1].decode().replace("&amp;", "&"), {}))
    print(f"{written} pages written to {out}")


if __name__ == "__main__":
    main()
