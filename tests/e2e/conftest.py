"""Fixtures for the browser tests: the whole local stack, Debian's Chromium, watched pages."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FloatRect,
    Page,
    sync_playwright,
)

if TYPE_CHECKING:
    from tests.e2e.pages import Session

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class Site:
    """The running local stack as the browser sees it."""

    url: str  # the website, ending in "/"
    config: dict[str, Any]  # window.TODO_CONFIG as served in config.js

    @property
    def api(self) -> str:
        return str(self.config["apiUrl"]).rstrip("/")


def read_config(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "config.js", timeout=10) as response:  # noqa: S310 (127.0.0.1)
        text = response.read().decode()
    match = re.search(r"window\.TODO_CONFIG\s*=\s*(\{.*\})\s*;", text, re.S)
    assert match, f"config.js does not set window.TODO_CONFIG: {text[:200]}"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


@contextmanager
def _run_stack() -> Iterator[str]:
    """Yields the website URL of the whole local stack (`make up`), started on free ports."""
    from scripts.local import LocalStack, Log, Ports

    with LocalStack(Ports(site=0, api=0, emulator=0), log=Log(quiet=True)) as stack:
        yield stack.site_url.rstrip("/") + "/"


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with _run_stack() as url:
        yield Site(url=url, config=read_config(url))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """Collects console errors and page errors; expected HTTP errors are allowed explicitly."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        if message.type == "warning" and "Content Security Policy" not in text:
            return
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.errors.append(f"console {message.type}: {text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"page error: {error}")

    @contextmanager
    def allow(self, regex: str) -> Iterator[None]:
        """Allows console errors matching regex while the block runs."""
        pattern = re.compile(regex)
        self.allowed.append(pattern)
        try:
            yield
        finally:
            self.allowed.remove(pattern)

    def allow_status(self, *statuses: int) -> Any:
        """Chromium logs every 4xx/5xx response as a console error; allow the expected ones."""
        codes = "|".join(str(s) for s in statuses)
        return self.allow(
            rf"Failed to load resource: the server responded with a status of ({codes})"
        )

    def check(self) -> None:
        assert not self.errors, "console errors or CSP violations:\n" + "\n".join(self.errors)


@dataclass
class Tab:
    page: Page
    context: BrowserContext
    watch: Watch
    site: Site

    def screenshot(self, name: str, height: int | None = None) -> Path:
        """Saves artifacts/screenshots/<name>.png: the whole page, or its top `height` pixels."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.wait_for_timeout(100)  # let the live region's text settle
        if height is None:
            self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        else:
            width = self.page.viewport_size["width"] if self.page.viewport_size else 1100
            clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": height}
            self.page.screenshot(path=str(path), clip=clip, animations="disabled")
        return path


@pytest.fixture
def open_tab(browser: Browser, site: Site) -> Iterator[Any]:
    """Opens a fresh browser context (a separate user) with the strict CSP enforced."""
    tabs: list[Tab] = []

    def make(**context_options: Any) -> Tab:
        context = browser.new_context(accept_downloads=True, **context_options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watch = Watch()
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        tab = Tab(page=page, context=context, watch=watch, site=site)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.context.close()
    for tab in tabs:
        tab.watch.check()


@pytest.fixture
def signed_in(open_tab: Any) -> Session:
    """A new user, signed up and confirmed through the website, on the list screen."""
    from tests.e2e.pages import Session, sign_up  # pages.py builds on this module's Tab

    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(tab, email)
    return Session(tab, email)
