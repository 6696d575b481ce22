"""The articles CSV: for owner teams and admins, audience-respecting, cells neutralised."""

import csv
import io

import pytest

from portal.kb import services

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
EXPORT = "/help/export.csv"


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# Who may export, and which articles each exporter gets: their audience's published
# articles and their own teams' drafts (every article for admins).
STATUS = {"requester": 403, "agent": 200, "lead": 200, "spoc": 403, "admin": 200, "outsider": 403}


@pytest.mark.parametrize("persona", PERSONAS)
def test_export_permission_and_audience_matrix(persona, personas, client_for, articles):
    response = client_for(getattr(personas, persona)).get(EXPORT)
    assert response.status_code == STATUS[persona]
    if response.status_code != 200:
        assert articles.internal.title.encode() not in response.content
        return
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="help-articles-')
    titles = {row["Title"] for row in _rows(response)}
    assert titles == {
        articles.public.title, articles.internal.title, articles.draft.title,
        articles.other_team.title,
    }  # fmt: skip


def test_a_team_member_gets_no_draft_of_another_team(personas, client_for, org, articles):
    other_draft = services.article_create(
        actor=personas.admin, title="Payroll draft", body="Not ready.", group=org.group_y,
        owner_team=org.team_b,
    )  # fmt: skip
    titles = {row["Title"] for row in _rows(client_for(personas.agent).get(EXPORT))}
    assert other_draft.title not in titles
    assert other_draft.title in {
        row["Title"] for row in _rows(client_for(personas.admin).get(EXPORT))
    }


def test_cells_that_look_like_formulas_stay_text(personas, client_for, org):
    article = services.article_create(
        actor=personas.agent, title="=HYPERLINK(\"http://evil.example\",\"Click\")",
        body="+1 if the VPN fails\n@admin -2", group=org.group_x, owner_team=org.team_a,
    )  # fmt: skip
    [row] = _rows(client_for(personas.agent).get(EXPORT))
    assert row["Title"] == "'" + article.title
    assert row["Body (Markdown)"] == "'" + article.body
    assert row["Status"] == "Draft" and row["Owner team"] == org.team_a.name
    assert row["Address"].endswith(f"/help/articles/{article.slug}")


def test_group_and_category_narrow_the_export_and_junk_is_a_400(
    personas, client_for, org, articles
):
    client = client_for(personas.admin)
    by_group = {row["Title"] for row in _rows(client.get(EXPORT, {"group": org.group_y.pk}))}
    assert by_group == {articles.other_team.title}
    assert client.get(EXPORT, {"category": "1 OR 1=1"}).status_code == 400


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(EXPORT)
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_the_export_is_one_query_for_the_articles_whatever_their_number(
    personas, client_for, org, django_assert_num_queries
):
    for n in range(30):
        services.article_create(
            actor=personas.agent, title=f"Tip {n:02}", body="x", group=org.group_x,
            category=org.hardware, owner_team=org.team_a,
        )  # fmt: skip
    client = client_for(personas.agent)
    client.get(EXPORT)
    # 1 the session with its user (roles, which say whether this person may export, come
    # from the cache once warm), then 2 the articles with group, category and owner team
    # joined.
    with django_assert_num_queries(2):
        rows = _rows(client.get(EXPORT))
    assert len(rows) == 30
