"""Signing up: the form's keyboard path, its errors, confirmation, and an address taken."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import PASSWORD, Session, alert, region, sign_up, status

pytestmark = pytest.mark.browser


def test_the_keyboard_reaches_the_form_with_a_visible_focus(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    tab.screenshot("sign-in", height=540)
    # the skip link comes first and focus is always visible
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.url.endswith("#/signin")  # the skip link does not disturb the router
    page.keyboard.press("Tab")
    expect(region(page, "Sign in").get_by_label("Email")).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_sign_up_names_each_error_then_confirms_and_signs_in(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    email = f"signup-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(site.url)
    page.get_by_role("link", name="Create an account").click()
    form = region(page, "Create an account")
    form.get_by_role("button", name="Create account").click()
    expect(alert(page)).to_have_text("Email is required.")
    expect(form.get_by_label("Email")).to_be_focused()
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("short")
    with tab.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page)).to_contain_text("assword")  # InvalidPasswordException, Cognito's words
    sign_up(tab, email)  # confirms with any code locally, then lands on the list
    expect(status(page)).to_contain_text(f"Signed in as {email}")
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()


def test_an_address_already_signed_up_is_refused_in_words(
    open_tab: Any, site: Site, signed_in: Session
) -> None:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    page.goto(site.url + "#/signup")
    form = region(page, "Create an account")
    form.get_by_label("Email").fill(signed_in.email)
    form.get_by_label("Password").fill(PASSWORD)
    with tab.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page)).to_have_text(
            "An account with this email already exists. Sign in, or confirm it if you have not yet."
        )
