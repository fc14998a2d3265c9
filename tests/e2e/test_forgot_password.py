"""A forgotten password: a code by email (ForgotPassword), then a new password with it
(ConfirmForgotPassword), without ever telling whether an account uses the address."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import (
    PASSWORD,
    Session,
    alert,
    region,
    serve_config,
    sign_in,
    status,
)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Another-Horse-7-staple"
# The page's clock in the tests that read times: 14:05 UTC, shown the British way.
CLOCK = {"locale": "en-GB", "timezone_id": "UTC"}
FIVE_PAST_TWO = "2026-03-02T14:05:00Z"


def ask_for_a_code(page: Page, email: str) -> None:
    form = region(page, "Reset your password")
    form.get_by_label("Email").fill(email)
    form.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Set a new password")).to_be_focused()


def set_new_password(page: Page, code: str, password: str, again: str | None = None) -> None:
    form = region(page, "Set a new password")
    form.get_by_label("Reset code").fill(code)
    form.get_by_label("New password", exact=True).fill(password)
    form.get_by_label("Confirm new password").fill(password if again is None else again)
    form.get_by_role("button", name="Set new password").click()


def test_a_forgotten_password_is_replaced_with_a_code(signed_in: Session) -> None:
    tab, page = signed_in.tab, signed_in.page
    page.get_by_role("button", name="Sign out").click()
    region(page, "Sign in").get_by_label("Email").fill(signed_in.email)
    page.get_by_role("link", name="Forgot your password?").click()
    form = region(page, "Reset your password")
    expect(form.get_by_label("Email")).to_have_value(signed_in.email)  # carried over
    tab.screenshot("forgot-password", height=600)
    ask_for_a_code(page, signed_in.email)
    reset = region(page, "Set a new password")
    local_note = "Running locally: no email is sent, and any code is accepted."
    expect(reset.get_by_text(local_note)).to_be_visible()
    expect(status(page)).to_have_text(
        "Running locally: no email is sent. Enter any code and a new password."
    )
    expect(reset.get_by_label("Email")).to_have_value(signed_in.email)
    expect(reset.get_by_text("At least 12 characters,")).to_be_visible()
    set_new_password(page, "123456", "too-weak")
    expect(alert(page)).to_contain_text("New password: needs at least 12 characters")
    expect(reset.get_by_label("New password", exact=True)).to_be_focused()
    set_new_password(page, "123456", NEW_PASSWORD, NEW_PASSWORD + "!")
    expect(alert(page)).to_have_text("Confirm new password: is not the same as the password above.")
    reset.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    tab.screenshot("reset-password", height=900)
    reset.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
    expect(status(page)).to_have_text(f"Your password is changed. Signed in as {signed_in.email}.")
    # the old password is gone, the new one signs in
    page.get_by_role("button", name="Sign out").click()
    with tab.watch.allow_status(400):
        sign_in(tab, signed_in.email, PASSWORD)
        expect(alert(page)).to_have_text("Incorrect email or password.")
    sign_in(tab, signed_in.email, NEW_PASSWORD)
    expect(status(page)).to_have_text(f"Signed in as {signed_in.email}.")


def test_asking_for_a_code_never_tells_whether_an_account_exists(
    open_tab: Any, site: Site, signed_in: Session
) -> None:
    # As on AWS (no "running locally" words): the answers for an address with an account and
    # one without read the same, and a code for the unknown one reads like a wrong code.
    seen: dict[str, tuple[str, str]] = {}
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    for who, email in (("known", signed_in.email), ("unknown", unknown)):
        tab: Tab = open_tab(viewport={"width": 1100, "height": 900}, **CLOCK)
        serve_config(tab, local=False)
        tab.page.clock.install(time=FIVE_PAST_TWO)
        tab.page.goto(site.url + "#/forgot")
        ask_for_a_code(tab.page, email)
        note = region(tab.page, "Set a new password").locator("#reset-sent")
        expect(note).to_have_text(
            "Code requested at 14:05. If an account uses this email, it is on its way."
        )
        expect(status(tab.page)).to_contain_text("at 14:05")
        seen[who] = (status(tab.page).inner_text().replace(email, "<email>"), note.inner_text())
        tab.page.clock.fast_forward("02:00")
        tab.page.get_by_role("button", name="Send a new code").click()
        expect(note).to_have_text(
            "Code requested at 14:07. If an account uses this email, it is on its way."
        )
        expect(status(tab.page)).to_have_text(
            "We asked for a new code at 14:07. Use the newest code; earlier ones no longer work."
        )
        expect(region(tab.page, "Set a new password").get_by_label("Reset code")).to_be_focused()
        if who == "unknown":
            with tab.watch.allow_status(400):
                set_new_password(tab.page, "123456", NEW_PASSWORD)
                expect(alert(tab.page)).to_have_text(
                    "That code is not correct for this email address. Check both, or choose "
                    "“Send a new code” and use the newest code."
                )
            tab.screenshot("reset-password-wrong-code", height=900)
    assert seen["known"] == seen["unknown"]
    assert seen["known"][0] == (
        "If an account uses <email>, we emailed it a code at 14:05. "
        "Enter the code and a new password."
    )
