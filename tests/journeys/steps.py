"""Steps the journeys share, done the way a person does them: through the real pages."""

import re

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "portal-demo"  # noqa: S105 (the demo accounts' published password)
TICKET_URL = re.compile(r"/tickets/TKT-\d+$")
# The demo's request form for IT › Hardware asks these (label → value or option label).
HARDWARE_ANSWERS = {"Asset tag": "LT-01234", "Cost centre": "CC-1100 IT"}


def login(page: Page, email: str) -> None:
    """Sign in through the form; lands on the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def raise_ticket(
    page: Page, *, title: str, group: str, category: str, subcategory: str = "",
    description: str = "Raised by an end-to-end journey.", attach=None, answers=None,
) -> str:  # fmt: skip
    """Fill the new-ticket form (the lists load as each parent is chosen), the request
    form's `answers` (label → value) if given, and the file `attach` if given; returns the
    number."""
    page.goto("/tickets/new")
    page.get_by_label("Title", exact=True).fill(title)
    # select_option waits until the option has arrived (htmx reloads each list).
    page.get_by_label("Business unit group").select_option(label=group)
    page.get_by_label("Category", exact=True).select_option(label=category)
    if subcategory:
        page.get_by_label("Subcategory").select_option(label=subcategory)
    answer_request_form(page, answers or {})
    page.get_by_label("Description").fill(description)
    if attach:
        page.get_by_label("Files").set_input_files(attach)
    page.get_by_role("button", name="Raise ticket").click()
    return opened_new_ticket(page, title)


def answer_request_form(page: Page, answers: dict[str, str]) -> None:
    """The chosen classification's request form (it loads after the lists): type into
    each field or pick the option labelled with its value."""
    if answers:  # a person waits for the form to appear: no reload still on its way
        expect(page.locator(".htmx-request")).to_have_count(0)
    for label, value in answers.items():
        field = page.locator("#request-form").get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)


def opened_new_ticket(page: Page, title: str) -> str:
    """After the new-ticket form is sent (by mouse or keyboard): wait for the ticket's own
    page, headed by `title`; returns its number."""
    page.wait_for_url(TICKET_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    return page.url.rsplit("/", 1)[1]


def fact(page: Page, name: str) -> str:
    """The value beside `name` in the ticket page's facts list (<dt>name</dt><dd>value</dd>)."""
    term = page.locator("dl.facts dt").filter(has_text=re.compile(f"^{re.escape(name)}$"))
    return term.locator("xpath=following-sibling::dd[1]").inner_text()


def history(page: Page):
    """The entries of the ticket page's History timeline."""
    return page.get_by_role("region", name="History").get_by_role("listitem")
