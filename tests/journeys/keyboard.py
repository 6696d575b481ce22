"""Keyboard-only steps: Tab, Shift+Tab, Enter, Space, arrow keys and typing, never a
click or a fill on an element.

Every focus stop is checked the way a sighted keyboard user sees it: the focused element
is on screen and its focus indicator (outline or box-shadow) is visibly there and differs
from the same element unfocused. Tests read the page to decide which key to press next
(how far down a list an option is), as a person reads the screen; only keys act on it.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.journeys.steps import DEMO_PASSWORD, opened_new_ticket

# What has the focus, and whether anyone can see that it has. The unfocused look comes
# from a clone of the element placed beside it for a moment (same rules apply, minus
# :focus); blurring the real element could fire change events and htmx requests.
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {name: "", tag: "body", id: "", shown: false};
  const text = (s) => (s || "").replace(/\\s+/g, " ").trim();
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.getAttribute("aria-labelledby")) {
    name = el.getAttribute("aria-labelledby").split(/\\s+/)
      .map((id) => text((document.getElementById(id) || {}).textContent)).join(" ");
  }
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name && el.tagName === "SUMMARY") name = el.textContent;
  if (!name) name = el.textContent;
  const look = (node) => {
    const s = getComputedStyle(node);
    const outline = `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`;
    return {outline: s.outlineStyle === "none" ? "none" : outline,
            width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow};
  };
  const focused = look(el);
  const clone = el.cloneNode(false);
  clone.removeAttribute("id");
  clone.removeAttribute("autofocus");
  el.after(clone);
  const unfocused = look(clone);
  clone.remove();
  const rect = el.getBoundingClientRect();
  const onScreen = rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0
    && rect.top < innerHeight && rect.left < innerWidth;
  const indicator = (focused.outline !== "none" && focused.width >= 2) || focused.shadow !== "none";
  const differs = focused.outline !== unfocused.outline || focused.shadow !== unfocused.shadow;
  return {name: text(name), tag: el.tagName.toLowerCase(), type: el.type || "", id: el.id,
          shown: onScreen && indicator && differs, focused, unfocused, onScreen,
          focusVisible: el.matches(":focus-visible")};
}"""


def focused(page: Page) -> dict:
    """The focused element: its accessible name (label, aria-label or text), tag, and
    `shown`: on screen with a visible focus indicator that its unfocused self lacks."""
    return page.evaluate(FOCUS_JS)


def assert_focus_shown(page: Page) -> dict:
    now = focused(page)
    assert now["shown"], f"focus is not visible: {now}"
    return now


def _matches(name: str, wanted: str | re.Pattern) -> bool:
    return bool(wanted.search(name)) if isinstance(wanted, re.Pattern) else name == wanted


def tab_to(
    page: Page, wanted: str | re.Pattern, *, within: str = "", backwards: bool = False,
    limit: int = 80,
) -> list[str]:  # fmt: skip
    """Press Tab (Shift+Tab backwards) until the element named `wanted` (and inside the
    CSS selector `within`, if given) has the focus; every stop on the way must show its
    focus. Returns the names passed, in order."""
    key = "Shift+Tab" if backwards else "Tab"
    passed = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = assert_focus_shown(page)
        passed.append(now["name"])
        if _matches(now["name"], wanted) and (
            not within or page.evaluate("s => !!document.activeElement.closest(s)", within)
        ):
            return passed
    pytest.fail(f"{wanted!r} is not reached with {key} in {limit} presses: {passed}")


def choose(page: Page, option: str) -> None:
    """On a focused closed list, press the arrow keys until `option` is chosen (each press
    changes the value and fires `change`, as it does for a person)."""
    options, current = page.evaluate(
        "() => [[...document.activeElement.options].map(o => o.label.trim()),"
        " document.activeElement.selectedIndex]"
    )
    assert option in options, (option, options)
    steps = options.index(option) - current
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    chosen = page.evaluate("() => document.activeElement.selectedOptions[0].label.trim()")
    assert chosen == option


def skip_to_content(page: Page) -> None:
    """The first Tab on a page reaches the visible "Skip to content" link; Enter moves the
    focus to the main content, so the next Tab lands on its first control, past the
    navigation."""
    page.keyboard.press("Tab")
    assert assert_focus_shown(page)["name"] == "Skip to content"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert "#" not in page.url  # the address stays the page's own


def sign_in(page: Page, email: str) -> None:
    """The sign-in form by keyboard alone; lands on the dashboard."""
    page.on("filechooser", lambda chooser: None)  # see pick_file
    page.goto("/login")
    tab_to(page, "Email")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(DEMO_PASSWORD)
    press_and_load(page)
    assert page.url.endswith("/dashboard")


def press_and_load(page: Page, key: str = "Enter") -> None:
    """Press `key` on a link or submit button and wait for the page it loads."""
    with page.expect_navigation():
        page.keyboard.press(key)


ADMIN_MENU = {
    "Master data",
    "Service levels",
    "Users",
    "Email log",
    "Webhooks",
    "Mailboxes",
    "Retention",
}


def follow_nav(page: Page, link: str) -> None:
    """From the top of a page, Tab along the main navigation to `link` and open it; an
    admin screen's link is in the "Administration" menu, opened with Enter first."""
    if link in ADMIN_MENU:
        tab_to(page, "Administration")
        page.keyboard.press("Enter")
    tab_to(page, link)
    press_and_load(page)


def pick_file(page: Page, path) -> None:
    """On a focused file input, Space opens the file chooser (the operating system's
    dialog, which no test can drive: Playwright answers it with `path`). `sign_in` has
    already turned on Playwright's file-chooser interception for the page: turned on here,
    lazily, it can lose the race with the key press."""
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(path)


def raise_ticket(
    page: Page, *, title: str, group: str, category: str, subcategory: str = "",
    description: str = "Raised with the keyboard alone.", attach=None,
) -> str:  # fmt: skip
    """The new-ticket form by keyboard, from the dashboard: the "New ticket" link in the
    navigation, the fields in order, the lists chosen with the arrow keys (each list
    reloads the next one), a file through the chooser. Returns the ticket number."""
    page.goto("/dashboard")  # a bookmark: the journeys start pages by address
    follow_nav(page, "New ticket")
    page.wait_for_url("**/tickets/new")
    skip_to_content(page)
    tab_to(page, "Title")
    page.keyboard.type(title)
    tab_to(page, "Business unit group")
    choose(page, group)
    expect(page.get_by_label("Category", exact=True)).to_contain_text(category)
    tab_to(page, "Category")
    choose(page, category)
    if subcategory:
        expect(page.get_by_label("Subcategory")).to_contain_text(subcategory)
        tab_to(page, "Subcategory")
        choose(page, subcategory)
    # A person waits for the page to stop moving: the lists and suggestions have arrived.
    expect(page.locator(".htmx-request")).to_have_count(0)
    tab_to(page, "Description")
    page.keyboard.type(description)
    if attach:
        tab_to(page, "Files")
        pick_file(page, attach)
        expect(page.locator("[data-picked-files]")).to_contain_text(attach.name)
    tab_to(page, "Raise ticket")
    page.keyboard.press("Enter")  # sent by attachments.js when there is a file
    return opened_new_ticket(page, title)
