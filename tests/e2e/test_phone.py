"""The website on a phone: the strict CSP holds, and nothing scrolls sideways."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import create_todo, sign_up, status, todo_list

pytestmark = pytest.mark.browser


def test_phone_viewport(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = tab.page
    response = page.goto(site.url)
    assert response is not None
    csp = response.headers.get("content-security-policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
        assert directive in csp, f"{directive!r} missing from the site's CSP: {csp!r}"
    assert "unsafe-" not in csp
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The policy is enforced: a connection to an origin it does not name is refused.
    with tab.watch.allow(r"127\.0\.0\.1:9/elsewhere"):
        violated = page.evaluate(
            """async () => {
                const seen = [];
                document.addEventListener("securitypolicyviolation", (e) =>
                    seen.push(e.effectiveDirective));
                try { await fetch("http://127.0.0.1:9/elsewhere"); } catch {}
                await new Promise((resolve) => setTimeout(resolve, 200));
                return seen;
            }"""
        )
    assert violated == ["connect-src"]
    sign_up(tab, f"phone-{uuid.uuid4().hex[:8]}@example.com")
    create_todo(page, "Pick up the parcel at the post office", "Bring ID", "2030-03-03")
    create_todo(page, "Book the dentist")
    todo_list(page).locator(".todo", has_text="Book the dentist").get_by_role("checkbox").check()
    expect(status(page)).to_have_text("Completed “Book the dentist”.")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone: {width}px"
    tab.page.set_viewport_size({"width": 375, "height": 740})
    tab.screenshot("phone")
    todo_list(page).get_by_role("link", name="Pick up the parcel at the post office").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Pick up the parcel at the post office"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the details page scrolls sideways on a phone: {width}px"
