"""Behaviour of the /masters, /teams and options screens, and their pinned query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    PendingImport,
    Subcategory,
    Team,
    TeamMember,
)
from portal.catalog.tests.workbooks import xlsx

pytestmark = pytest.mark.django_db


def grow(org, n: int) -> None:
    """n more categories/subcategories/teams/members/mappings, to show counts stay flat."""
    start = Team.objects.count()
    for i in range(start, start + n):
        category = Category.objects.create(group=org.group_y, name=f"Cat {i}")
        sub = Subcategory.objects.create(category=category, name=f"Sub {i}")
        team = Team.objects.create(name=f"Team {i}")
        TeamMember.objects.create(team=team, user=org_user(org, i))
        ClassificationMapping.objects.create(category=category, subcategory=sub, team=team)
        group = BusinessUnitGroup.objects.create(name=f"G {i}", code=f"G{i}")
        group.spocs.add(org_user(org, i))


def org_user(org, i):
    from portal.accounts.models import User

    user, _ = User.objects.get_or_create(email=f"u{i}@example.com", defaults={"full_name": f"U{i}"})
    return user


def page_overhead(client) -> int:
    """Queries every signed-in page costs before its view runs a query of its own.

    Today: the session with its user, one statement (roles and the unread count come
    from the cache, page views are written once a minute). Other apps own those, so it is
    measured on /masters/import (a page whose view queries nothing) rather than hard-coded; the pins
    below are the catalogue's own queries. A change of master data makes the roles stale
    (they are read again on the next page), so the tests warm them again after one.
    """
    client.get("/masters/import")  # warm-up: the idle-session refresh writes once a minute
    with CaptureQueriesContext(connection) as context:
        assert client.get("/masters/import").status_code == 200
    return len(context)


@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        ("groups", 2 + 1),  # count, page, prefetch of SPOCs
        ("categories", 2 + 1),  # count, page (group joined), parent-filter choices
        ("subcategories", 2 + 1),  # count, page (category and group joined), filter choices
        ("teams", 2),  # count, page (member and mapping counts annotated)
        ("members", 2 + 1),  # count, page (team and user joined), filter choices
        ("mappings", 2 + 1),  # count, page (category, group, subcategory, team joined), choices
    ],
)
def test_master_lists_take_the_same_queries_for_five_or_fifty_rows(
    org, personas, client_for, django_assert_num_queries, kind, queries
):
    client = client_for(personas.admin)
    overhead = page_overhead(client)
    for size in (5, 50):
        grow(org, size - Team.objects.count())
        client.get("/masters/import")  # the roles, stale after the change, cached again
        with django_assert_num_queries(overhead + queries):
            assert client.get(f"/masters/{kind}?status=all&page=1").status_code in (200,)


def test_the_teams_page_takes_the_same_queries_for_few_or_many_teams(
    org, personas, client_for, django_assert_num_queries
):
    client = client_for(personas.admin)
    overhead = page_overhead(client)
    for extra in (2, 20):
        grow(org, extra)
        client.get("/masters/import")  # the roles, stale after the change, cached again
        # count, page of teams, active members with users, team → group pairs,
        # groups with their SPOCs (2: groups, SPOCs)
        with django_assert_num_queries(overhead + 6):
            assert client.get("/teams").status_code == 200


def test_the_coverage_report_takes_the_same_queries_for_few_or_many_gaps(
    org, personas, client_for, django_assert_num_queries
):
    client = client_for(personas.admin)
    overhead = page_overhead(client)
    for extra in (2, 20):
        for i in range(extra):
            Subcategory.objects.create(category=org.payroll, name=f"Gap {extra}-{i}")
        client.get("/masters/import")  # the roles, stale after the change, cached again
        # active groups, subcategory gaps (count + page), category gaps (count only: an
        # empty page needs no query), suggested teams, summary (4 counts), active teams,
        # what makes gaps (4: teams with nobody, groups with no SPOC, mappings to inactive
        # teams, admins on triage duty)
        with django_assert_num_queries(overhead + 14):
            assert client.get("/masters/coverage").status_code == 200


def test_search_and_filters_narrow_lists_and_unknown_filters_are_refused(org, personas, client_for):
    client = client_for(personas.admin)
    page = client.get("/masters/subcategories", {"q": "lapt"}).content.decode()
    assert "Laptop" in page and "Printer" not in page
    Category.objects.filter(pk=org.payroll.pk).update(is_active=False)
    page = client.get("/masters/categories", {"status": "inactive"}).content.decode()
    assert "Payroll" in page and "Hardware" not in page
    page = client.get("/masters/categories", {"group": org.group_x.pk}).content.decode()
    assert "Hardware" in page and "Payroll" not in page
    assert client.get("/masters/categories", {"status": "deleted"}).status_code == 400
    assert client.get("/masters/categories", {"group": "1 OR 1=1"}).status_code == 400
    assert client.get("/masters/widgets").status_code == 404
    assert client.post(f"/masters/mappings/{org.mapping_hardware.pk}/deactivate").status_code == 404


def test_an_empty_master_data_post_says_what_is_missing(org, personas, client_for):
    # Bound with posted_data(): an empty POST is validated, not shown as a blank form.
    client = client_for(personas.admin)
    for path in ("/masters/groups/new", f"/masters/groups/{org.group_x.pk}"):
        response = client.post(path, {})
        assert response.status_code == 400, path
        assert "This field is required." in response.content.decode(), path
    assert BusinessUnitGroup.objects.count() == 2
    assert BusinessUnitGroup.objects.get(pk=org.group_x.pk).name == "Group X"


def test_deleting_something_in_use_is_refused_with_what_uses_it(org, personas, client_for):
    client = client_for(personas.admin)
    response = client.post(f"/masters/categories/{org.hardware.pk}/delete", follow=True)
    assert "used by 2 subcategories, 1 classification mapping" in response.content.decode()
    assert Category.objects.filter(pk=org.hardware.pk).exists()
    response = client.post(f"/masters/teams/{org.team_a.pk}/delete", follow=True)
    assert "used by 2 team members, 1 classification mapping" in response.content.decode()

    client.post(f"/masters/categories/{org.payroll.pk}/delete")
    assert not Category.objects.filter(pk=org.payroll.pk).exists()


def test_names_are_unique_within_their_parent_ignoring_case_and_spaces(org, personas, client_for):
    client = client_for(personas.admin)
    response = client.post(
        "/masters/subcategories/new", {"category": org.hardware.pk, "name": "  LAPTOP "}
    )
    assert response.status_code == 400
    assert "Hardware already has a subcategory “LAPTOP”." in response.content.decode()
    response = client.post(
        "/masters/subcategories/new", {"category": org.payroll.pk, "name": "  LAPTOP "}
    )
    assert response.status_code == 302
    assert Subcategory.objects.get(category=org.payroll).name == "LAPTOP"


def test_a_group_names_its_spocs_by_email(org, personas, client_for):
    client = client_for(personas.admin)
    url = f"/masters/groups/{org.group_y.pk}"
    response = client.post(url, {"name": "Group Y", "code": "y", "spocs": "nobody@example.com"})
    assert response.status_code == 400
    assert "No active user has the email nobody@example.com." in response.content.decode()
    data = {"name": "Group Y", "code": "y", "spocs": "Lead@Example.com, spoc@example.com"}
    assert client.post(url, data).status_code == 302
    org.group_y.refresh_from_db()
    assert org.group_y.code == "Y"
    assert {u.email for u in org.group_y.spocs.all()} == {"lead@example.com", "spoc@example.com"}


@pytest.mark.smoke
def test_deactivated_items_disappear_from_the_dependent_selects(org, personas, client_for):
    client = client_for(personas.requester)
    url = "/catalog/options/subcategories"
    page = client.get(url, {"category": org.hardware.pk, "selected": org.printer.pk})
    html = page.content.decode()
    assert f'<option value="{org.printer.pk}" selected>Printer</option>' in html
    assert html.startswith('<option value="">Choose a subcategory</option>')
    client_for(personas.admin).post(f"/masters/subcategories/{org.printer.pk}/deactivate")
    html = client.get(url, {"category": org.hardware.pk}).content.decode()
    assert "Laptop" in html and "Printer" not in html
    client_for(personas.admin).post(f"/masters/groups/{org.group_x.pk}/deactivate")
    html = client.get("/catalog/options/categories", {"group": org.group_x.pk}).content.decode()
    assert html.strip() == '<option value="">Choose a category</option>'


@pytest.mark.parametrize(
    "query", ["?group=abc", "?group=-1", "?group=1&selected=x", "?group=0", "?group=%C2%B2"]
)
def test_malformed_ids_in_the_dependent_selects_get_400(personas, client_for, query):
    response = client_for(personas.requester).get("/catalog/options/categories" + query)
    assert response.status_code == 400


def test_a_missing_or_unknown_parent_gives_only_the_placeholder(personas, client_for):
    client = client_for(personas.requester)
    for query in ("", "?category=", "?category=999999"):
        response = client.get("/catalog/options/subcategories" + query)
        assert response.status_code == 200
        assert response.content.decode().count("<option") == 1


def test_the_mapping_form_wires_its_selects_with_htmx(org, personas, client_for):
    html = (
        client_for(personas.admin)
        .get(f"/masters/mappings/new?group={org.group_x.pk}&category={org.hardware.pk}")
        .content.decode()
    )
    assert 'hx-get="/catalog/options/categories"' in html
    assert 'hx-trigger="change from:#id_group, htmx:afterSwap from:#id_group"' in html
    assert 'hx-get="/catalog/options/subcategories"' in html
    assert f'<option value="{org.laptop.pk}">Laptop</option>' in html  # narrowed to Hardware
    assert "style=" not in html and "<script>" not in html


def test_the_mapping_form_refuses_a_subcategory_of_another_category(org, personas, client_for):
    other = Subcategory.objects.create(category=org.payroll, name="Payslip")
    response = client_for(personas.admin).post(
        "/masters/mappings/new",
        {
            "group": org.group_x.pk,
            "category": org.hardware.pk,
            "subcategory": other.pk,
            "team": org.team_b.pk,
        },
    )
    assert response.status_code == 400
    assert not ClassificationMapping.objects.filter(subcategory=other).exists()


def staff_team_b(org, personas):
    """Team B gets a member, so a route to it reaches a person (a covered combination)."""
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)


def test_the_coverage_report_highlights_gaps_and_closes_one_in_a_click(org, personas, client_for):
    staff_team_b(org, personas)
    admin = client_for(personas.admin)
    Subcategory.objects.create(category=org.payroll, name="Payslip")
    page = admin.get("/masters/coverage").content.decode()
    assert "1</strong> gap" in page and "Payslip" in page
    assert "Laptop" not in page  # covered by Hardware / any subcategory
    payslip = Subcategory.objects.get(name="Payslip")
    response = admin.post(
        "/masters/coverage/add",
        {"category": org.payroll.pk, "subcategory": payslip.pk, "team": org.team_b.pk},
        headers={"HX-Request": "true"},
    )
    assert "Now routed to <strong>Team B</strong>" in response.content.decode()
    assert "Every active classification reaches a team" not in page
    assert "Nothing to do" not in admin.get("/masters/coverage").content.decode()
    org.group_y.spocs.add(personas.spoc)  # the last structural gap: a group with no SPOC
    assert "Nothing to do" in admin.get("/masters/coverage").content.decode()


def _summary_box(html: str) -> str:
    start = html.index('<div id="coverage-summary"')
    return html[start : html.index("</div>", start)]


def test_one_click_mapping_swaps_the_summary_out_of_band_and_says_the_new_counts(
    org, personas, client_for
):
    staff_team_b(org, personas)
    admin = client_for(personas.admin)
    payslip = Subcategory.objects.create(category=org.payroll, name="Payslip")
    tax_form = Subcategory.objects.create(category=org.payroll, name="Tax form")
    # Group X: Hardware / Laptop and / Printer are routed; Group Y: Payroll's two are gaps.
    page = admin.get("/masters/coverage").content.decode()
    assert "<strong>2</strong> gaps · 2 of 4 combinations routed · 50% covered" in page
    # The box is replaced, so it is not a live region: the empty status region speaks.
    assert 'role="status"' not in _summary_box(page)

    def add(subcategory, **extra):
        return admin.post(
            "/masters/coverage/add",
            {"category": org.payroll.pk, "subcategory": subcategory.pk, "team": org.team_b.pk}
            | extra,
            headers={"HX-Request": "true"},
        ).content.decode()

    html = add(payslip)
    box = _summary_box(html)
    assert 'id="coverage-summary" class="coverage-summary card card-warn" hx-swap-oob="true"' in box
    assert "<strong>1</strong> gap · 3 of 4 combinations routed · 75% covered" in box
    assert '<progress max="4" value="3"' in box
    assert (
        '<div id="coverage-status" hx-swap-oob="innerHTML">Payroll / Payslip: now routed to'
        " Team B. 1 gap left, 75% covered.</div>"
    ) in html
    # Out of band elements must be at the top level of the answer, not inside the row.
    assert html.index("</tr>") < html.index('<div id="coverage-status"')

    # Narrowed to a group (the row's form carries it), the counts are that group's.
    narrowed = admin.get("/masters/coverage", {"group": org.group_y.pk}).content.decode()
    assert f'<input type="hidden" name="group" value="{org.group_y.pk}">' in narrowed
    html = add(tax_form, group=org.group_y.pk)
    assert '<div id="coverage-summary" class="coverage-summary card" hx-swap-oob="true">' in html
    assert "All 2 active combinations reach a team member." in _summary_box(html)
    assert "No gaps left: all 2 active combinations reach a team member.</div>" in html


def test_a_failed_one_click_mapping_leaves_the_summary_alone(org, personas, client_for):
    payslip = Subcategory.objects.create(category=org.payroll, name="Payslip")
    html = (
        client_for(personas.admin)
        .post(
            "/masters/coverage/add",
            {"category": org.payroll.pk, "subcategory": payslip.pk},  # no team
            headers={"HX-Request": "true"},
        )
        .content.decode()
    )
    assert '<div id="coverage-alert" hx-swap-oob="innerHTML">Choose a team' in html
    assert "coverage-summary" not in html


def test_a_mapping_to_an_inactive_team_is_a_gap_and_says_why(org, personas, client_for):
    client_for(personas.admin).post(f"/masters/teams/{org.team_a.pk}/deactivate")
    page = client_for(personas.admin).get("/masters/coverage").content.decode()
    assert "Mapped to Team A, which is inactive" in page


def test_teams_show_members_leads_and_spocs(org, personas, client_for):
    html = client_for(personas.spoc).get("/teams").content.decode()
    assert "Team A" in html and "Lead Persona" in html and "Agent Persona" in html
    detail = client_for(personas.spoc).get(f"/teams/{org.team_a.pk}").content.decode()
    assert detail.index("lead@example.com") < detail.index("agent@example.com")  # leads first
    assert "Spoc Persona" in html  # SPOC of Group X, whose Hardware goes to Team A


@pytest.mark.smoke
def test_the_import_screen_previews_then_applies_once(org, personas, client_for):
    admin = client_for(personas.admin)
    upload = xlsx([["Group X", "Hardware", "Dock", "Team A"]])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin.post("/masters/import", {"file": SimpleUploadedFile("new.xlsx", upload)})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="create">1<' in html and "Apply these changes" in html
    assert not Subcategory.objects.filter(name="Dock").exists()
    token = response.context["token"]
    # The file waits in the database (any app server can apply it), bound to this admin.
    assert PendingImport.objects.get(token=token).created_by == personas.admin

    # Another admin's session cannot apply it, even with the token.
    other = type(personas.admin).objects.create_user(
        "admin2@example.com", "x" * 12, full_name="Admin Two", is_staff=True
    )
    assert client_for(other).post("/masters/import/apply", {"token": token}).status_code == 400

    response = admin.post("/masters/import/apply", {"token": token})
    assert response.status_code == 200
    assert "Import finished" in response.content.decode()
    assert Subcategory.objects.filter(name="Dock", category=org.hardware).exists()
    assert not PendingImport.objects.exists()
    assert admin.post("/masters/import/apply", {"token": token}).status_code == 400


def test_the_import_screen_refuses_a_bad_file_with_a_clear_message(personas, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(personas.admin).post(
        "/masters/import", {"file": SimpleUploadedFile("data.xlsx", b"a,b\n1,2\n")}
    )
    assert response.status_code == 400
    assert "CSV or text file renamed to .xlsx" in response.content.decode()


def test_the_export_downloads_a_workbook(org, personas, client_for):
    response = client_for(personas.admin).get("/masters/export")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content).startswith(b"PK\x03\x04")


def test_one_click_can_map_a_whole_category_and_the_report_reloads(org, personas, client_for):
    first = Subcategory.objects.create(category=org.payroll, name="Payslip")
    Subcategory.objects.create(category=org.payroll, name="Tax form")
    response = client_for(personas.admin).post(
        "/masters/coverage/add",
        {
            "category": org.payroll.pk,
            "subcategory": first.pk,
            "team": org.team_b.pk,
            "scope": "category",
            "default_priority": "high",
        },
        headers={"HX-Request": "true"},
    )
    assert response["HX-Refresh"] == "true"
    mapping = ClassificationMapping.objects.get(category=org.payroll)
    assert (mapping.subcategory, mapping.team, mapping.default_priority) == (
        None,
        org.team_b,
        "high",
    )


def test_a_category_of_another_group_is_not_a_valid_choice(org, personas, client_for):
    response = client_for(personas.admin).post(
        "/masters/mappings/new",
        {"group": org.group_x.pk, "category": org.payroll.pk, "team": org.team_b.pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ClassificationMapping.objects.filter(category=org.payroll).exists()


def test_the_import_screen_refuses_a_file_over_ten_megabytes(personas, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.xlsx", b"PK\x03\x04" + b"\x00" * (10 * 1024 * 1024))
    response = client_for(personas.admin).post("/masters/import", {"file": big})
    assert response.status_code == 400
    assert "over 10 MB" in response.content.decode()
    assert not PendingImport.objects.exists()


def test_dependent_select_forms_refuse_ids_too_big_for_the_database(client_for, personas, org):
    # A 500 on SQLite before: int() accepted it and the query overflowed.
    response = client_for(personas.admin).post(
        "/masters/mappings/new",
        {"group": "9" * 30, "category": "٥", "subcategory": "", "team": org.team_a.pk},
    )
    assert response.status_code in {200, 400}
