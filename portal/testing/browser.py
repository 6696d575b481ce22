"""Playwright fixtures driving Debian's Chromium (the bundled browser download does not work
on our machines). Tests marked `browser` use `browser_context`/`page_for` with pytest-django's
`live_server`.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these flags Chromium tries to reach Google's services at start-up, which a
# closed network refuses slowly, many connections at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install -y chromium`.")
    # Playwright's sync API runs an event loop in this thread; Django's ORM would then
    # refuse to run in the test body. Tests only use the ORM synchronously around it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser, live_server):
    """`page_for(user)` opens a page already signed in as `user` (None: anonymous).

    The session is created server-side (like `Client.force_login`) and handed to the
    browser as its cookie, so tests that are not about signing in skip the form.
    """
    from django.conf import settings
    from django.test import Client

    contexts = []

    def make(user=None, *, viewport=None, color_scheme="light", bypass_csp=False):
        # bypass_csp only for injecting test tools (axe-core) into the page.
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or {"width": 1280, "height": 900},
            color_scheme=color_scheme,
            bypass_csp=bypass_csp,
        )
        # CI shares two cores between two test processes, one of which may be running the
        # scale demo's load: waits are for what the user sees, given time as the journeys
        # are (tests/journeys/conftest.py).
        context.set_default_timeout(15_000)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
