"""Articles around the shared organisation (portal/testing/org.py): team A owns three
articles in group X › Hardware: a published one for everyone, a published internal how-to
for people who work tickets, and a draft; team B owns a published one in group Y."""

from dataclasses import dataclass

import pytest

from portal.kb import services
from portal.kb.models import Article, Audience
from portal.tickets.tests.attachment_fixtures import files_storage  # noqa: F401 - images
from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the ticket tests
    raise_ticket,
    ticket,
)


@dataclass
class Articles:
    public: Article
    internal: Article
    draft: Article
    other_team: Article


def publish(article: Article, actor) -> Article:
    services.article_publish(actor=actor, article=article)
    article.refresh_from_db()
    return article


@pytest.fixture
def articles(personas, org) -> Articles:
    agent = personas.agent

    def make(title, body, **extra):
        defaults = {"group": org.group_x, "category": org.hardware, "owner_team": org.team_a}
        return services.article_create(
            actor=extra.pop("actor", agent), title=title, body=body, **{**defaults, **extra}
        )

    public = publish(
        make("Connect to the office printer", "Open **Settings › Printers** and add `PRN-01`."),
        agent,
    )
    internal = publish(
        make(
            "Reset a printer queue on the print server",
            "Internal: log in to the print server as admin and restart the spooler.",
            audience=Audience.WORKERS,
        ),
        agent,
    )
    draft = make("Printer toner replacement", "Draft: not yet checked.")
    other = publish(
        make(
            "Payslip questions",
            "Payslips are published on the 25th.",
            actor=personas.admin,
            group=org.group_y,
            category=org.payroll,
            owner_team=org.team_b,
        ),
        personas.admin,
    )
    return Articles(public, internal, draft, other)
