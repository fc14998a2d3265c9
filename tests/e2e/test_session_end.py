"""What a session's end leaves behind in the tab: nothing of the person who was signed in."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIResponse, Request, Route, expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import create_todo, sign_in, sign_up, status, todo_list

pytestmark = pytest.mark.browser


def test_the_next_person_in_the_tab_sees_nothing_of_the_last(
    open_tab: Any, site: Site, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    email_a, email_b = f"end-a-{run}@example.com", f"end-b-{run}@example.com"
    sign_up(open_tab(), email_b)  # B exists, signed in elsewhere

    tab: Tab = open_tab()
    page = tab.page
    sign_up(tab, email_a)
    create_todo(page, "Secret plans")
    page.get_by_label("Search titles").fill("secret")
    expect(page.locator("#list-count")).to_have_text("1 matching “secret”")
    todo_list(page).get_by_role("link", name="Secret plans").click()
    page.get_by_label("Notes").fill("The combination is 1234.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved.")
    attachment = tmp_path / "private.txt"
    attachment.write_text("for my eyes only\n")
    page.get_by_label("Choose a file").set_input_files(str(attachment))
    page.get_by_role("button", name="Upload").click()
    expect(status(page)).to_have_text("Uploaded private.txt.")
    page.get_by_role("link", name="Back to the list").click()
    page.locator("#create-title").fill("Half-typed by A")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Hidden views keep no trace of A: no notes, no presigned download links, no search.
    assert page.locator("#details-notes").input_value() == ""
    assert page.locator("#details-title").input_value() == ""
    assert page.locator("#file-list a").count() == 0
    assert page.locator("#create-title").input_value() == ""
    assert page.locator("#search").input_value() == ""
    assert page.locator("#todo-list li").count() == 0

    sign_in(tab, email_b)
    expect(page.locator("#who")).to_have_text(email_b)
    expect(page.get_by_text("Nothing here yet. Add your first to-do above.")).to_be_visible()
    expect(page.get_by_label("Search titles")).to_have_value("")


def test_a_renewal_answered_after_sign_out_does_not_sign_back_in(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab()
    page = tab.page
    sign_up(tab, f"race-{uuid.uuid4().hex[:8]}@example.com")
    create_todo(page, "Before the race")

    # Cognito renews the tokens at once; its answer reaches the page only when released.
    held: list[tuple[Route, APIResponse]] = []

    def hold_renewals(route: Route) -> None:
        if "REFRESH_TOKEN_AUTH" in (route.request.post_data or ""):
            held.append((route, route.fetch()))
        else:
            route.continue_()

    def reject_once(route: Route) -> None:
        if not rejected:
            rejected.append(route.request.url)
            route.fulfill(status=401, content_type="application/json", body="{}")
        else:
            route.continue_()

    rejected: list[str] = []
    api_after_sign_out: list[str] = []
    signed_out = False
    page.on(
        "request",
        lambda r: (
            api_after_sign_out.append(r.url) if signed_out and r.url.startswith(site.api) else None
        ),
    )
    page.route(site.config["cognitoEndpoint"], hold_renewals)
    page.route(re.compile(re.escape(site.api) + r"/todos\?"), reject_once)
    with tab.watch.allow_status(401):
        # The API answers 401: the app renews, and the renewal is still on its way ...
        page.get_by_label("Search titles").fill("before")
        for _ in range(50):
            if held:
                break
            page.wait_for_timeout(100)
        assert len(held) == 1, "the 401 did not start a renewal"
        # ... when the person signs out.
        signed_out = True
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        route, answer = held[0]
        assert answer.status == 200
        with page.expect_response(lambda r: r.request == route.request):
            route.fulfill(response=answer)
        page.wait_for_timeout(500)

    assert page.evaluate("sessionStorage.getItem('todo.refreshToken')") is None
    expect(page.locator("#account")).to_be_hidden()
    expect(status(page)).to_have_text("You are signed out.")
    assert api_after_sign_out == [], "the app went on calling the API after the sign-out"
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_malformed_todo_link_says_not_found(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab()
    page = tab.page
    sign_up(tab, f"link-{uuid.uuid4().hex[:8]}@example.com")
    with tab.watch.allow_status(404):
        page.goto(site.url + "#/todos/%E0%A4%A")  # a truncated percent-encoding
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.get_by_role("alert")).to_contain_text("not found")
    page.get_by_role("link", name="Back to the list").click()
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()


def test_an_empty_file_is_refused_in_words_before_any_request(
    open_tab: Any, site: Site, tmp_path: Path
) -> None:
    tab: Tab = open_tab()
    page = tab.page
    sign_up(tab, f"empty-{uuid.uuid4().hex[:8]}@example.com")
    create_todo(page, "With an empty file")
    todo_list(page).get_by_role("link", name="With an empty file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("With an empty file")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    registrations: list[str] = []
    page.on("request", lambda r: registrations.append(r.url) if r.method == "POST" else None)
    page.get_by_label("Choose a file").set_input_files(str(empty))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_have_text(
        "empty.txt is empty: there is nothing to upload."
    )
    expect(page.get_by_label("Choose a file")).to_be_focused()
    assert registrations == []
    expect(page.locator("#files-empty")).to_be_visible()


def _target(request: Request) -> str:
    return request.headers.get("x-amz-target", "").rsplit(".", 1)[-1]


def test_sign_out_after_the_tab_slept_still_revokes_the_sessions(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab()
    page = tab.page
    page.clock.install()
    cognito: list[Request] = []
    page.on(
        "request", lambda r: cognito.append(r) if r.url == site.config["cognitoEndpoint"] else None
    )
    sign_up(tab, f"slept-{uuid.uuid4().hex[:8]}@example.com")
    sign_in_call = next(r for r in cognito if "USER_PASSWORD_AUTH" in (r.post_data or ""))
    answer = sign_in_call.response()
    assert answer is not None
    stale_access_token = answer.json()["AuthenticationResult"]["AccessToken"]
    cognito.clear()

    # The laptop slept for two hours: the renewal timer never ran, the tokens have expired.
    page.clock.set_system_time(page.evaluate("Date.now()") + 2 * 3600 * 1000)
    with page.expect_request(lambda r: _target(r) == "GlobalSignOut") as revoked:
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    used = json.loads(revoked.value.post_data or "{}")["AccessToken"]
    assert used != stale_access_token, "GlobalSignOut was sent an expired access token"
    assert [_target(r) for r in cognito] == ["InitiateAuth", "GlobalSignOut"]
    assert "REFRESH_TOKEN_AUTH" in (cognito[0].post_data or "")
    response = revoked.value.response()
    assert response is not None
    assert response.status == 200


def test_an_upload_that_ends_after_sign_out_shows_nothing(
    open_tab: Any, site: Site, tmp_path: Path
) -> None:
    tab: Tab = open_tab()
    page = tab.page
    sign_up(tab, f"upload-{uuid.uuid4().hex[:8]}@example.com")
    create_todo(page, "Upload then leave")
    todo_list(page).get_by_role("link", name="Upload then leave").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload then leave")

    held: list[Route] = []

    def hold_s3_post(route: Route) -> None:
        if "multipart/form-data" in (route.request.headers.get("content-type") or ""):
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"^http://127\.0\.0\.1:\d+/"), hold_s3_post)
    attachment = tmp_path / "slow.bin"
    attachment.write_bytes(b"x" * 4096)
    page.get_by_label("Choose a file").set_input_files(str(attachment))
    page.get_by_role("button", name="Upload").click()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1, "the upload to S3 did not start"

    api_after_sign_out: list[str] = []
    page.on(
        "request",
        lambda r: api_after_sign_out.append(r.url) if r.url.startswith(site.api) else None,
    )
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    with page.expect_response(lambda r: r.request == held[0].request):
        held[0].continue_()
    page.wait_for_timeout(300)
    expect(status(page)).to_have_text("You are signed out.")
    assert page.locator("#alert").inner_text() == ""
    assert api_after_sign_out == [], "the app called the API for a person who had signed out"
