"""Headless Chromium for the page tests (``rnnlab inspect`` pages, the playground).

Debian's ``chromium`` driven by Playwright's Python wheel through ``executable_path``
(``playwright install`` would download a browser; it is never run). As root, Chromium
needs ``--no-sandbox``. Where the browser or the wheel is missing the tests skip with a
line that says how to install them; under ``CI=true`` they fail instead, since
``make test`` installs both there.
"""

import os
import shutil

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path():
    """The browser to drive: ``$RNNLAB_CHROMIUM``, else the first of CANDIDATES on PATH."""
    path = os.environ.get("RNNLAB_CHROMIUM")
    if path:
        return path if os.path.exists(path) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(why):
    message = f"{why}; `make test` installs it (apt-get install chromium; pip install playwright)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium shared by the session's page tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright wheel is not installed")
    path = chromium_path()
    if path is None:
        _unavailable("no chromium on PATH")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A fresh page whose requests outside ``allow`` (URL prefixes) are aborted and whose
    console errors and page errors are collected in ``errors`` (a test asserts it empty)."""

    def __init__(self, browser, allow=("file://", "data:", "about:")):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.blocked = []
        self.errors = []

        def route(r):
            url = r.request.url
            if url.startswith(tuple(allow)):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self):
        self.context.close()


@pytest.fixture
def new_page(browser):
    """``new_page(allow=(...))`` -> a :class:`Page`; closed after the test."""
    pages = []

    def make(allow=("file://", "data:", "about:")):
        pages.append(Page(browser, allow))
        return pages[-1]

    yield make
    for p in pages:
        p.close()
