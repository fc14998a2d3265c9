"""The whole flow in headless Chromium on the local stack: two users, every screen."""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Site, Tab

pytestmark = pytest.mark.browser

PASSWORD = "Correct-Horse-9-battery"


def region(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=name, exact=True)


def status(page: Page) -> Locator:
    return page.locator("#status")


def alert(page: Page) -> Locator:
    return page.get_by_role("alert")


def sign_up(tab: Tab, email: str) -> None:
    page = tab.page
    page.goto(tab.site.url)
    form = region(page, "Sign in")
    expect(form).to_be_visible()
    form.get_by_role("link", name="Create an account").click()
    form = region(page, "Create an account")
    expect(page.get_by_role("heading", name="Create an account")).to_be_focused()
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    confirm = region(page, "Confirm your account")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_text("Running locally: any code is accepted.")).to_be_visible()
    expect(confirm.get_by_role("button", name="Send a new code")).to_be_hidden()  # no mail locally
    expect(confirm.get_by_label("Email")).to_have_value(email)
    confirm.get_by_label("Confirmation code").fill("000000")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
    expect(page.locator("#who")).to_have_text(email)


def sign_in(tab: Tab, email: str, password: str = PASSWORD) -> None:
    form = region(tab.page, "Sign in")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def create_todo(page: Page, title: str, description: str = "", due: str = "") -> None:
    form = page.locator("#create-form")
    form.get_by_label("Title").fill(title)
    if description:
        form.get_by_label("Description").fill(description)
    if due:
        form.get_by_label("Due date").fill(due)
    form.get_by_role("button", name="Add to-do").click()
    expect(status(page)).to_have_text(f"Added “{title}”.")
    expect(todo_list(page).get_by_role("link", name=title, exact=True)).to_be_visible()


def todo_list(page: Page) -> Locator:
    return page.get_by_role("list", name="My to-dos")


def todo_titles(page: Page) -> list[str]:
    return todo_list(page).locator(".todo-title").all_inner_texts()


def id_token(site: Site, email: str) -> str:
    body = json.dumps(
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": site.config["userPoolClientId"],
            "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
        site.config["cognitoEndpoint"],
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.loads(response.read())["AuthenticationResult"]["IdToken"])


def api_create(site: Site, token: str, title: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
        site.api + "/todos",
        data=json.dumps({"title": title}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 201
        result: dict[str, Any] = json.loads(response.read())
        return result


def test_two_users_full_flow(open_tab: Any, site: Site, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    email_a = f"a-{run}@example.com"
    email_b = f"b-{run}@example.com"

    # ---- user A: sign-up errors, then sign up, confirm (any code locally), signed in
    a: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = a.page
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    a.screenshot("sign-in", height=540)
    # keyboard: the skip link comes first and focus is always visible
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.url.endswith("#/signin")  # the skip link does not disturb the router
    page.keyboard.press("Tab")
    expect(region(page, "Sign in").get_by_label("Email")).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    page.get_by_role("link", name="Create an account").click()
    form = region(page, "Create an account")
    form.get_by_role("button", name="Create account").click()
    expect(alert(page)).to_have_text("Email is required.")
    expect(form.get_by_label("Email")).to_be_focused()
    form.get_by_label("Email").fill(email_a)
    form.get_by_label("Password").fill("short")
    with a.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page)).to_contain_text("assword")  # InvalidPasswordException, Cognito's words
    sign_up(a, email_a)
    expect(status(page)).to_contain_text(f"Signed in as {email_a}")
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()

    # ---- create, with a validation error first
    page.locator("#create-form").get_by_role("button", name="Add to-do").click()
    expect(alert(page)).to_have_text("Title is required.")
    expect(page.locator("#create-title")).to_be_focused()
    create_todo(page, "Buy milk", "Two litres, semi-skimmed", "2030-01-15")
    create_todo(page, "Write the quarterly report", "Numbers from the dashboard", "2030-01-10")
    create_todo(page, "Call the plumber")
    create_todo(page, "Water the plants", due="2030-02-01")
    # open first, then by due date, then newest: as the API returns it
    expect(todo_list(page).locator(".todo-title")).to_have_text(
        ["Write the quarterly report", "Buy milk", "Water the plants", "Call the plumber"]
    )

    # ---- search (debounced, case-insensitive substring of the title)
    page.get_by_label("Search titles").fill("MILK")
    expect(todo_list(page).locator(".todo-title")).to_have_text(["Buy milk"])
    expect(page.locator("#list-count")).to_have_text("1 matching “MILK”")
    page.get_by_label("Search titles").fill("nothing-like-this")
    expect(page.get_by_text("No to-dos match “nothing-like-this”.")).to_be_visible()
    # a network failure is reported in words
    offline = re.compile(re.escape(site.api) + r"/todos\?.*search=offline")
    page.route(offline, lambda route: route.abort())
    with a.watch.allow(r"net::ERR_FAILED"):
        page.get_by_label("Search titles").fill("offline")
        expect(alert(page)).to_have_text(
            "Cannot reach the server. Check your connection and try again."
        )
    page.unroute(offline)
    page.get_by_label("Search titles").fill("")
    expect(todo_list(page).locator(".todo")).to_have_count(4)

    # ---- complete from the list
    plants = todo_list(page).locator(".todo", has_text="Water the plants")
    plants.get_by_role("checkbox").check()
    expect(status(page)).to_have_text("Completed “Water the plants”.")
    expect(plants).to_have_class(re.compile(r"\bdone\b"))
    a.screenshot("list")

    # ---- details: notes, save, survive a reload (silent refresh-token sign-in)
    todo_list(page).get_by_role("link", name="Write the quarterly report").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Write the quarterly report")
    expect(heading).to_be_focused()
    todo_url = page.url
    todo_a_id = todo_url.rsplit("/", 1)[1]
    page.get_by_label("Notes").fill("Ask finance for the March figures.\nDraft by Friday.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_label("Notes")).to_have_value(
        "Ask finance for the March figures.\nDraft by Friday."
    )
    expect(page.locator("#who")).to_have_text(email_a)

    page.get_by_role("button", name="Mark as done").click()
    expect(status(page)).to_have_text("Marked as done.")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    page.get_by_role("button", name="Reopen").click()
    expect(status(page)).to_have_text("Reopened.")

    # ---- attachments: upload through the presigned POST with progress, download, delete
    payload = os.urandom(700 * 1024)
    big = tmp_path / "figures.bin"
    big.write_bytes(payload)
    small = tmp_path / "agenda.txt"
    small.write_text("1. Numbers\n2. Risks\n")
    progress = page.locator("#upload-progress")
    for path in (big, small):
        page.get_by_label("Choose a file").set_input_files(str(path))
        page.get_by_role("button", name="Upload").click()
        expect(status(page)).to_have_text(f"Uploaded {path.name}.")
        expect(progress).to_have_js_property("value", 100)
        expect(page.locator("#upload-percent")).to_have_text("100%")
    files = page.get_by_role("list", name="Attachments")
    expect(files.get_by_role("link", name="figures.bin")).to_be_visible()
    expect(files.get_by_role("link", name="agenda.txt")).to_be_visible()
    expect(files.locator(".file", has_text="figures.bin")).to_contain_text("700 KB")
    a.screenshot("details")

    with page.expect_download() as download_info:
        files.get_by_role("link", name="figures.bin").click()
    download = download_info.value
    assert download.suggested_filename == "figures.bin"
    assert Path(download.path()).read_bytes() == payload

    files.get_by_role("button", name="Delete agenda.txt").click()
    dialog = page.get_by_role("dialog", name="Delete this attachment?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(status(page)).to_have_text("Deleted agenda.txt.")
    expect(files.get_by_role("link", name="agenda.txt")).to_have_count(0)
    page.reload()
    expect(files.get_by_role("link", name="figures.bin")).to_be_visible()
    expect(files.get_by_role("link", name="agenda.txt")).to_have_count(0)

    # ---- a 401 renews the tokens (REFRESH_TOKEN_AUTH) and retries once
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
    with a.watch.allow_status(401):
        page.get_by_role("link", name="Back to the list").click()
        expect(todo_list(page).locator(".todo")).to_have_count(4)
    assert len(rejected) == 1
    assert len(refreshes) == 1
    page.unroute(re.compile(re.escape(site.api) + r"/todos\?"))

    # ---- delete a to-do: cancel first, then confirm
    todo_list(page).get_by_role("link", name="Call the plumber").click()
    delete = page.get_by_role("button", name="Delete…")
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete this to-do?")
    expect(dialog).to_contain_text("“Call the plumber” and its attachments will be deleted.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    a.screenshot("delete-dialog", height=700)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call the plumber")
    delete.click()
    dialog.get_by_role("button", name="Delete").click()
    expect(status(page)).to_have_text("Deleted “Call the plumber”.")
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
    expect(todo_list(page).get_by_role("link", name="Call the plumber")).to_have_count(0)
    expect(todo_list(page).locator(".todo")).to_have_count(3)

    # ---- sign out, a wrong password, sign back in
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(status(page)).to_have_text("You are signed out.")
    with a.watch.allow_status(400):
        sign_in(a, email_a, "Wrong-password-1")
        expect(alert(page)).to_have_text("Incorrect email or password.")
    a.screenshot("sign-in-error", height=600)
    sign_in(a, email_a)
    expect(todo_list(page).locator(".todo")).to_have_count(3)

    # ---- user B: cannot sign up as A, sees nothing of A's, even by direct URL
    b: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page_b = b.page
    page_b.goto(site.url + "#/signup")
    form = region(page_b, "Create an account")
    form.get_by_label("Email").fill(email_a)
    form.get_by_label("Password").fill(PASSWORD)
    with b.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page_b)).to_have_text(
            "An account with this email already exists. Sign in, or confirm it if you have not yet."
        )
    sign_up(b, email_b)
    expect(page_b.get_by_text("Nothing here yet.")).to_be_visible()
    page_b.get_by_label("Search titles").fill("report")
    expect(page_b.get_by_text("No to-dos match “report”.")).to_be_visible()
    with b.watch.allow_status(404):
        page_b.goto(site.url + f"#/todos/{todo_a_id}")
        expect(page_b.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(alert(page_b)).to_contain_text("not found")
        expect(page_b.get_by_label("Notes")).to_be_hidden()

    # ---- pagination: 23 to-dos, 20 per page, "Load more" with the cursor
    token_b = id_token(site, email_b)
    for n in range(23):
        api_create(site, token_b, f"Bulk {n:02d}")
    page_b.goto(site.url + "#/")
    page_b.reload()
    expect(todo_list(page_b).locator(".todo")).to_have_count(20)
    expect(page_b.locator("#list-count")).to_have_text("20 to-dos (more available)")
    page_b.get_by_role("button", name="Load more").click()
    expect(todo_list(page_b).locator(".todo")).to_have_count(23)
    expect(page_b.get_by_role("button", name="Load more")).to_be_hidden()
    assert len(set(todo_titles(page_b))) == 23

    # A still sees only A's three
    page.reload()
    expect(todo_list(page).locator(".todo")).to_have_count(3)


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
