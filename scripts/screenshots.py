"""Take the user-guide screenshots from a running demo (``make run`` after ``make seed``).

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out docs/guide/img] [--only NAME]

Logs in through the login page as the demo accounts and saves one PNG per
page listed in SHOTS. Needs Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

PASSWORD = "Yilian@2026"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# (file name, user, path or a callable step, language)
SHOTS: list[tuple[str, str, str, str]] = [
    ("login", "", "/accounts/login/", "zh-hans"),
    ("home-office", "office", "/", "zh-hans"),
    ("consortium-list", "office", "/registry/consortia/", "zh-hans"),
    ("consortium-detail", "office", "consortium:金寨县人民医院县域医共体", "zh-hans"),
    ("consortium-history", "office", "consortium:金寨县人民医院县域医共体?tab=history", "zh-hans"),
    ("consortium-agreements", "office", "consortium:金寨县人民医院县域医共体?tab=agreements", "zh-hans"),
    ("member-add", "office", "consortium-add:金寨县人民医院县域医共体", "zh-hans"),
    ("institution-search", "doctor", "/registry/institutions/?q=jzxrmyy", "zh-hans"),
    ("institution-detail", "hospital_admin", "institution:金寨县人民医院", "zh-hans"),
    ("region-detail", "regulator", "/registry/regions/341524/", "zh-hans"),
    ("grid-list", "regulator", "/registry/grids/", "zh-hans"),
    ("coverage", "regulator", "/registry/coverage/", "zh-hans"),
    ("staff", "hospital_admin", "/accounts/my-staff/", "zh-hans"),
    ("people", "township_doctor", "/people/", "zh-hans"),
    ("audit", "admin", "/accounts/audit/", "zh-hans"),
    ("consortium-detail-en", "office", "consortium:金寨县人民医院县域医共体", "en"),
    ("api-docs", "admin", "/api/docs/", "zh-hans"),
]


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")


def resolve(page: Page, base: str, target: str) -> str:
    """Turn "consortium:NAME" / "institution:NAME" into a detail URL by searching the list."""
    kind, _, rest = target.partition(":")
    if kind not in {"consortium", "consortium-add", "institution"}:
        return target
    name, _, query = rest.partition("?")
    listing = "consortia" if kind.startswith("consortium") else "institutions"
    page.goto(f"{base}/registry/{listing}/?q={name}")
    href = page.locator(f"table.list a:text-is('{name}')").first.get_attribute("href") or ""
    if kind == "consortium-add":
        return href.rstrip("/") + "/members/add/"
    return href + (f"?{query}" if query else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/guide/img")
    parser.add_argument("--only", default="")
    options = parser.parse_args()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for name, user, target, language in SHOTS:
            if options.only and not re.search(options.only, name):
                continue
            context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN")
            page = context.new_page()
            if user:
                login(page, options.base, user)
            if language != "zh-hans":
                page.context.add_cookies(
                    [{"name": "django_language", "value": language, "url": options.base}]
                )
            path = resolve(page, options.base, target)
            page.goto(path if path.startswith("http") else f"{options.base}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(f"{name}.png  {page.url}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
