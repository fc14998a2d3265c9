"""Signing in and staying signed in: sign out and back, a 401 renewed once, renewal on time."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import Session, alert, create_todo, sign_in, sign_up, status, todo_list

pytestmark = pytest.mark.browser


def test_sign_out_a_wrong_password_then_sign_back_in(signed_in: Session) -> None:
    page = signed_in.page
    for title in ("Buy milk", "Water the plants", "Write the quarterly report"):
        create_todo(page, title)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(status(page)).to_have_text("You are signed out.")
    with signed_in.tab.watch.allow_status(400):
        sign_in(signed_in.tab, signed_in.email, "Wrong-password-1")
        expect(alert(page)).to_have_text("Incorrect email or password.")
    signed_in.tab.screenshot("sign-in-error", height=600)
    sign_in(signed_in.tab, signed_in.email)
    expect(todo_list(page).locator(".todo")).to_have_count(3)


def test_a_401_renews_the_tokens_and_retries_once(signed_in: Session, site: Site) -> None:
    # REFRESH_TOKEN_AUTH, then the same request again
    page = signed_in.page
    for title in ("Buy milk", "Water the plants", "Call the plumber", "Write the report"):
        create_todo(page, title)
    todo_list(page).get_by_role("link", name="Write the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write the report")
    refreshes: list[str] = []
    page.on(
        "request",
        lambda r: refreshes.append(r.url) if "REFRESH_TOKEN_AUTH" in (r.post_data or "") else None,
    )
    rejected: list[str] = []

    def reject_once(route: Any) -> None:
        if not rejected:
            rejected.append(route.request.url)
            route.fulfill(
                status=401,
                content_type="application/json",
                body='{"error": {"code": "Unauthorized", "message": "token expired"}}',
            )
        else:
            route.continue_()

    page.route(re.compile(re.escape(site.api) + r"/todos\?"), reject_once)
    with signed_in.tab.watch.allow_status(401):
        # the list on screen is the one seen before: wait for the retried request's answer
        retried = page.expect_response(
            lambda r: r.url.startswith(site.api + "/todos?") and r.status == 200
        )
        with retried:
            page.get_by_role("link", name="Back to the list").click()
        expect(todo_list(page).locator(".todo")).to_have_count(4)
    assert len(rejected) == 1
    assert len(refreshes) == 1
    page.unroute(re.compile(re.escape(site.api) + r"/todos\?"))


def test_tokens_are_renewed_before_they_expire(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab()
    page = tab.page
    page.clock.install()
    sign_up(tab, f"clock-{uuid.uuid4().hex[:8]}@example.com")
    refreshes: list[str] = []
    page.on(
        "request",
        lambda r: refreshes.append(r.url) if "REFRESH_TOKEN_AUTH" in (r.post_data or "") else None,
    )
    page.clock.fast_forward("50:00")
    page.wait_for_timeout(300)
    assert refreshes == [], "renewed far too early"
    with page.expect_request(lambda r: "REFRESH_TOKEN_AUTH" in (r.post_data or "")):
        # the id token lives an hour; it is renewed a minute before it expires
        page.clock.fast_forward("09:30")
    # still signed in and the API accepts the renewed token
    create_todo(page, "After renewal")
