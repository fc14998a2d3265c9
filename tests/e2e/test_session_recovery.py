"""A 401 that reaches the page as a network error: the site renews once, or asks to sign in.

API Gateway may answer an expired or revoked token's 401 without CORS headers, so the browser
hides the status and the page sees a failed request (docs/website.md). This runs against its own
local stack whose gateway does exactly that (`drop_cors_on_401`), with real tokens: the expired
one is the emulator's pool's own, the revocation is Cognito's global sign-out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

from scripts.local import LocalStack, Log, Ports
from scripts.local.users import emulator_signed
from scripts.local.users import sign_up as create_account
from tests.e2e.conftest import Site, Tab, read_config
from tests.e2e.pages import PASSWORD, alert, create_todo, sign_in, sign_up, status, todo_list

pytestmark = pytest.mark.browser

BLOCKED = r"blocked by CORS policy|Failed to load resource: net::ERR_FAILED"


@pytest.fixture(scope="module")
def strict() -> Iterator[tuple[LocalStack, Site]]:
    """The local stack with a gateway whose authorizer answers 401 without CORS headers."""
    with LocalStack(
        Ports(site=0, api=0, emulator=0), log=Log(quiet=True), drop_cors_on_401=True
    ) as stack:
        url = stack.site_url + "/"
        yield stack, Site(url=url, config=read_config(url))


def signed_in_tab(open_tab: Any, site: Site) -> tuple[Tab, str]:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    tab.site = site
    email = f"recover-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(tab, email)
    return tab, email


def expire_next_request(page: Page, site: Site, stack: LocalStack, path: str) -> list[str]:
    """The next API request whose path matches `path` carries an expired token of the pool: the
    gateway refuses it. Returns the methods of the requests changed so (one at most)."""
    tampered: list[str] = []

    def expired_token(route: Route) -> None:
        if tampered:
            route.fallback()
            return
        sent = route.request.headers["authorization"].removeprefix("Bearer ")
        sub = jwt.decode(sent, options={"verify_signature": False})["sub"]
        expired = emulator_signed(stack, sub=sub, iat=1_000_000, exp=1_000_600)
        tampered.append(route.request.method)
        route.continue_(headers={**route.request.headers, "authorization": f"Bearer {expired}"})

    page.route(re.compile(re.escape(site.api) + path), expired_token)
    return tampered


LIST = r"/todos\?"
ONE_TODO = r"/todos/[^/?]+$"


def renewals(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda r: seen.append(r.url) if "REFRESH_TOKEN_AUTH" in (r.post_data or "") else None,
    )
    return seen


def cors_blocks(page: Page) -> list[str]:
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "blocked by CORS policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    return seen


def test_an_expired_token_is_renewed_once_and_the_list_loads(
    open_tab: Any, strict: tuple[LocalStack, Site]
) -> None:
    stack, site = strict
    tab, _ = signed_in_tab(open_tab, site)
    page = tab.page
    create_todo(page, "Buy milk")
    create_todo(page, "Water the plants")
    refreshes, blocked = renewals(page), cors_blocks(page)
    tampered = expire_next_request(page, site, stack, LIST)
    with (
        tab.watch.allow(BLOCKED),
        page.expect_response(lambda r: r.url.startswith(site.api + "/todos?") and r.status == 200),
    ):
        page.get_by_label("Search titles").fill("milk")
    expect(todo_list(page).locator(".todo-title")).to_have_text(["Buy milk"])
    assert len(tampered) == 1
    assert blocked, "the gateway's 401 carried CORS headers: the browser saw the status"
    assert len(refreshes) == 1  # one silent renewal, then the same request again
    expect(alert(page)).to_have_text("")
    tab.screenshot("recovered-list")


def test_a_renewal_cognito_refuses_asks_to_sign_in_and_keeps_the_half_typed_todo(
    open_tab: Any, strict: tuple[LocalStack, Site]
) -> None:
    stack, site = strict
    tab, email = signed_in_tab(open_tab, site)
    page = tab.page
    create_todo(page, "Buy milk")
    page.locator("#create-title").fill("Call the plumber about the leak")
    page.locator("#create-description").fill("Under the kitchen sink")
    # Signed out everywhere (another device, an administrator): the refresh token is revoked.
    stack.client("cognito-idp").admin_user_global_sign_out(
        UserPoolId=stack.user_pool_id, Username=email
    )
    refreshes, blocked = renewals(page), cors_blocks(page)
    expire_next_request(page, site, stack, LIST)
    with tab.watch.allow(BLOCKED), tab.watch.allow_status(400):
        page.get_by_label("Search titles").fill("milk")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert blocked
    assert len(refreshes) == 1  # renewed once, refused: no loop
    expect(alert(page)).to_have_text(
        "Your session has ended. Sign in again to continue where you left off."
    )
    # The page keeps nothing of the list while signed out.
    assert page.locator("#todo-list li").count() == 0
    assert page.locator("#create-title").input_value() == ""
    tab.screenshot("session-ended", height=600)

    sign_in(tab, email, PASSWORD)
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
    expect(page.locator("#create-title")).to_have_value("Call the plumber about the leak")
    expect(page.locator("#create-description")).to_have_value("Under the kitchen sink")
    page.locator("#create-form").get_by_role("button", name="Add to-do").click()
    expect(status(page)).to_have_text("Added “Call the plumber about the leak”.")


def test_unsaved_notes_wait_for_the_same_person_only(
    open_tab: Any, strict: tuple[LocalStack, Site]
) -> None:
    stack, site = strict
    tab, email = signed_in_tab(open_tab, site)
    page = tab.page
    create_todo(page, "Write the report")
    todo_list(page).get_by_role("link", name="Write the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write the report")
    details = page.url
    page.get_by_label("Notes").fill("Figures from March.")
    stack.client("cognito-idp").admin_user_global_sign_out(
        UserPoolId=stack.user_pool_id, Username=email
    )
    # The save carries an expired token: refused without CORS headers, renewal refused too.
    expired_save = expire_next_request(page, site, stack, ONE_TODO)
    with tab.watch.allow(BLOCKED), tab.watch.allow_status(400):
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert expired_save == ["PATCH"]
    assert page.locator("#details-notes").input_value() == ""  # not on the page meanwhile

    sign_in(tab, email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Write the report")
    assert page.url == details  # back where they were
    expect(page.get_by_label("Notes")).to_have_value("Figures from March.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved.")

    # Someone else signing in after an expiry gets none of it.
    other = f"other-{email}"
    create_account(stack, other, password=PASSWORD)
    page.get_by_label("Notes").fill("Not for the next person.")
    stack.client("cognito-idp").admin_user_global_sign_out(
        UserPoolId=stack.user_pool_id, Username=email
    )
    expire_next_request(page, site, stack, ONE_TODO)
    with tab.watch.allow(BLOCKED), tab.watch.allow_status(400):
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(tab, other, PASSWORD)
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()
    page.goto(details)
    with tab.watch.allow_status(404):
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        # The view asks for the todo and its files at once: both 404s land inside the allowance.
        page.wait_for_load_state("networkidle")
    assert page.locator("#details-notes").input_value() == ""
