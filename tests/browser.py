"""Debian's Chromium driven by Playwright, as every UI test opens it (never `playwright install`)."""

import shutil
from contextlib import contextmanager


@contextmanager
def chromium_page(timeout: float = 60_000, **options):
    """A fresh headless page with the Korean locale; `options` go to `new_page` (e.g. viewport)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Debian's chromium is missing: `make test` installs it (apt-get install chromium fonts-nanum)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(locale="ko-KR", **options)
            page.set_default_timeout(timeout)
            yield page
        finally:
            browser.close()
