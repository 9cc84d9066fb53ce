"""Browser tests: Playwright driving the machine's Chromium against a live server.

Playwright's own browser download does not work here, so the tests launch
Debian's /usr/bin/chromium (``CHROMIUM`` overrides the path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then
# refuse ORM calls made by the test itself (to set up data) as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def new_tab(browser: Any, live_server: Any) -> Any:
    """A tab in a fresh browser context (its own cookies) on the live server, in Chinese."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.base_url = live_server.url  # type: ignore[attr-defined]
    return tab


def logged_in_tab(browser: Any, live_server: Any, username: str) -> Any:
    """A fresh tab logged in as ``username`` (factories' password): for flows with several users at once."""
    from yilian.accounts.tests.factories import PASSWORD

    tab = new_tab(browser, live_server)
    login(tab, username, PASSWORD)
    return tab


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    tab = new_tab(browser, live_server)
    yield tab
    tab.context.close()


def login(page: Any, username: str, password: str) -> None:
    """Log in through the login form."""
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")
