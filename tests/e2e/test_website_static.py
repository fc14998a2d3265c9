"""The website as files: small, no inline code or styles, nothing from other origins."""

from __future__ import annotations

import importlib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEBSITE = Path(__file__).resolve().parents[2] / "website"
BUDGET_BYTES = 150 * 1024
GENERATED = {"config.js"}  # written by `make up` / `make publish-website`, never committed


def site_files() -> list[Path]:
    return sorted(
        p
        for p in WEBSITE.rglob("*")
        if p.is_file() and p.relative_to(WEBSITE).as_posix() not in GENERATED
    )


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value for name, value in attrs}
        line = self.getpos()[0]
        if tag == "style":
            self.problems.append(f"line {line}: <style> element")
        if tag == "script" and not names.get("src"):
            self.problems.append(f"line {line}: inline <script>")
        self._in_script = tag == "script"
        for name, value in names.items():
            if name == "style":
                self.problems.append(f"line {line}: style= attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"line {line}: event-handler attribute {name}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"line {line}: javascript: URL in {name}=")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"line {self.getpos()[0]}: inline script text")


def test_total_size_is_within_budget() -> None:
    total = sum(p.stat().st_size for p in site_files())
    assert total < BUDGET_BYTES, f"website/ is {total} bytes; the budget is {BUDGET_BYTES}"


def test_index_loads_config_before_the_app_module() -> None:
    html = (WEBSITE / "index.html").read_text()
    config = html.index('<script src="config.js"></script>')
    app = html.index('<script type="module" src="js/app.js"></script>')
    assert config < app


@pytest.mark.parametrize(
    "path", [p for p in site_files() if p.suffix == ".html"], ids=lambda p: p.name
)
def test_html_has_no_inline_script_style_or_handlers(path: Path) -> None:
    parser = _Inline()
    parser.feed(path.read_text())
    assert not parser.problems, f"{path.name}: " + "; ".join(parser.problems)


@pytest.mark.parametrize(
    "path",
    [p for p in site_files() if p.suffix in {".html", ".js", ".css", ".svg"}],
    ids=lambda p: p.relative_to(WEBSITE).as_posix(),
)
def test_no_urls_to_other_origins(path: Path) -> None:
    text = path.read_text()
    # The SVG namespace is an identifier, never fetched.
    urls = [
        u for u in re.findall(r"https?://[^\s\"'<>)]+", text) if u != "http://www.w3.org/2000/svg"
    ]
    assert not urls, f"{path.name} names other origins: {urls}"


def test_scripts_never_write_html_or_inline_styles() -> None:
    for path in (WEBSITE / "js").rglob("*.js"):
        text = path.read_text()
        for pattern in (
            r"\.innerHTML\s*=",
            r"\.outerHTML\s*=",
            r"insertAdjacentHTML",
            r"document\.write",
            r"\beval\(",
            r"new Function\(",
            r"setAttribute\(\s*[\"']style",
            r"\.style\.",
        ):
            assert not re.search(pattern, text), f"{path.name} uses {pattern}"


def test_readme_screenshots_are_small_pngs() -> None:
    shots = sorted((WEBSITE.parent / "docs" / "screenshots").glob("*"))
    assert shots, "docs/screenshots/ holds the README's screenshots"
    for shot in shots:
        assert shot.suffix == ".png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{shot.name} is not a PNG"
        assert shot.stat().st_size < 150 * 1024, f"{shot.name} is over 150 KB"


class _MaxLengths(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag in ("input", "textarea") and names.get("id"):
            self.found[str(names["id"])] = names.get("maxlength")


def test_text_fields_stop_where_the_api_stops() -> None:
    # A field longer than the API accepts would only fail after a round trip, in the
    # validator's words; the browser should stop the typing instead.
    app = WEBSITE.parent / "app"
    if str(app) not in sys.path:
        sys.path.insert(0, str(app))
    models = importlib.import_module("main_service.models")
    parser = _MaxLengths()
    parser.feed((WEBSITE / "index.html").read_text())
    expected = {
        "search": models.MAX_SEARCH,
        "create-title": models.MAX_TITLE,
        "create-description": models.MAX_DESCRIPTION,
        "details-title": models.MAX_TITLE,
        "details-description": models.MAX_DESCRIPTION,
        "details-notes": models.MAX_NOTES,
    }
    assert {field: parser.found.get(field) for field in expected} == {
        field: str(limit) for field, limit in expected.items()
    }
