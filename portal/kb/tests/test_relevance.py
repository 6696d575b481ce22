"""Suggestion relevance on a fixed corpus: the demo's thirty articles (portal/kb/demo.py).

Twenty titles as an employee would type them on the new-ticket form, before choosing any
classification; the article that answers each must be among the three suggested.

PostgreSQL (the production database, CI): all twenty, ranked by `ts_rank` with stemming
('english') and the title weighted above the body. SQLite (the embedded default) scores
substring matches (title 3, body 1) without stemming: on this corpus it also puts all
twenty in the top three, with weaker second and third places (measured when this test was
written); it is held to the same bar, so a regression on either database shows.
The corpus and the typed titles were written together: this pins the ranking's
behaviour, it does not prove relevance on an organisation's own articles.
"""

import pytest
from django.db import connection

from portal.accounts.models import User
from portal.core.demo import load_demo_users
from portal.kb import search
from portal.kb.models import Article

pytestmark = pytest.mark.django_db

TYPED = [
    ("my vpn token says invalid code", "Reset your VPN token or authenticator"),
    ("cannot connect to vpn from home", "Connect to the VPN from home"),
    ("forgot my password", "Reset your password"),
    ("new phone, need the authenticator again",
     "Set up multi-factor authentication (MFA) on a new phone"),
    ("laptop not charging", "Laptop will not turn on or charge"),
    ("nothing comes out of the printer", "Connect to an office printer"),
    ("second screen not detected", "Set up a second monitor or docking station"),
    ("please install visio", "Install approved software from the Company Portal"),
    ("need an adobe acrobat licence", "Request a software licence"),
    ("outlook keeps crashing", "Fix Outlook crashing or freezing on start-up"),
    ("wifi on my new tablet", "Join the office Wi-Fi on a new device"),
    ("suspicious email asking for my login", "Report a phishing email"),
    ("laptop stolen from my car", "Lost or stolen laptop or phone: what to do now"),
    ("access to the finance shared drive", "Request access to a shared drive or application"),
    ("add people to our mailing list", "Create or change a distribution list"),
    ("deductions on payslip look wrong", "Understand your payslip"),
    ("where is my p60", "Find and download your tax form"),
    ("book holiday", "Book annual leave"),
    ("expense claim for a hotel", "Submit an expense claim"),
    ("radiator is cold in room 3", "Report a heating, cooling or lighting problem"),
]  # fmt: skip


@pytest.fixture
def corpus(db):
    from portal.catalog import demo as catalog_demo
    from portal.kb import demo as kb_demo

    users = {user.email: user for user in load_demo_users()}
    catalog_demo.load(users)
    kb_demo.load(users)
    return users


def _top_three(user, title: str) -> list[str]:
    return [a.title for a in search.suggest(Article.objects.suggestible_to(user), title)][:3]


def test_the_corpus_is_thirty_articles_and_twenty_titles(corpus):
    assert Article.objects.count() == 30
    assert len(TYPED) == 20
    assert {title for _, title in TYPED} <= set(Article.objects.values_list("title", flat=True))


def test_the_expected_article_is_in_the_top_three_for_each_typed_title(corpus):
    employee = User.objects.get(email="employee@example.com")
    misses = {
        typed: _top_three(employee, typed)
        for typed, expected in TYPED
        if expected not in _top_three(employee, typed)
    }
    assert misses == {}, f"{connection.vendor}: {misses}"
