"""Signing up: the form's keyboard path, its errors, confirmation, and an address taken."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import PASSWORD, Session, alert, region, serve_config, sign_up, status

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


KINDS = (
    ("requireLowercase", "a lowercase letter"),
    ("requireUppercase", "an uppercase letter"),
    ("requireNumbers", "a number"),
    ("requireSymbols", "a symbol (like ! or #)"),
)


def in_words(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def rules_in_words(policy: dict[str, Any]) -> str:
    """The sign-up page's hint for a password policy (config.js's `passwordPolicy`)."""
    kinds = [words for flag, words in KINDS if policy[flag]]
    length = f"At least {policy['minimumLength']} characters"
    return f"{length}, with {in_words(kinds)}." if kinds else f"{length}."


def test_sign_up_names_each_error_then_confirms_and_signs_in(open_tab: Any, site: Site) -> None:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    policy = site.config["passwordPolicy"]
    email = f"signup-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(site.url)
    page.get_by_role("link", name="Create an account").click()
    form = region(page, "Create an account")
    expect(form.get_by_text(rules_in_words(policy))).to_be_visible()
    form.get_by_role("button", name="Create account").click()
    expect(alert(page)).to_have_text("Email is required.")
    expect(form.get_by_label("Email")).to_be_focused()
    form.get_by_label("Email").fill(email)
    cognito: list[str] = []
    endpoint = site.config["cognitoEndpoint"]
    page.on("request", lambda r: cognito.append(r.url) if r.url == endpoint else None)
    form.get_by_label("Password", exact=True).fill("short")
    form.get_by_label("Confirm password").fill("short")
    form.get_by_role("button", name="Create account").click()
    lacking = [f"at least {policy['minimumLength']} characters"]
    lacking += [words for flag, words in KINDS[1:] if policy[flag]]  # "short" has lowercase
    expect(alert(page)).to_have_text(f"Password: needs {in_words(lacking)}.")
    expect(form.get_by_label("Password", exact=True)).to_be_focused()
    tab.screenshot("sign-up-password-rules", height=700)
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Confirm password").fill(PASSWORD + "x")
    form.get_by_role("button", name="Create account").click()
    expect(alert(page)).to_have_text("Confirm password: is not the same as the password above.")
    expect(form.get_by_label("Confirm password")).to_be_focused()
    assert cognito == []  # the page refused both before asking Cognito
    sign_up(tab, email)  # confirms with any code locally, then lands on the list
    expect(status(page)).to_contain_text(f"Signed in as {email}")
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()


def password_of(length: int) -> str:
    """A password of exactly `length` characters with every kind a policy can require."""
    return ("Aa1-" + "x" * length)[:length]


def test_the_page_and_the_pool_agree_on_the_shortest_password(open_tab: Any, site: Site) -> None:
    # The page's rules come from config.js, and config.js from the pool's PasswordPolicy: one
    # character short is refused by the page, the shortest it takes the pool takes too.
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    shortest = site.config["passwordPolicy"]["minimumLength"]
    page.goto(site.url + "#/signup")
    form = region(page, "Create an account")
    form.get_by_label("Email").fill(f"shortest-{uuid.uuid4().hex[:8]}@example.com")
    for field in ("Password", "Confirm password"):
        form.get_by_label(field, exact=True).fill(password_of(shortest - 1))
    form.get_by_role("button", name="Create account").click()
    expect(alert(page)).to_have_text(f"Password: needs at least {shortest} characters.")
    for field in ("Password", "Confirm password"):
        form.get_by_label(field, exact=True).fill(password_of(shortest))
    form.get_by_role("button", name="Create account").click()
    expect(region(page, "Confirm your account")).to_be_visible()


def test_the_page_follows_the_rules_in_its_config(open_tab: Any, site: Site) -> None:
    # Another pool's rules, and a pool that takes less than the page was told: the page shows
    # and checks what config.js says, and a refusal by Cognito is put in the same words.
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    lax = {
        "minimumLength": 6,
        "requireLowercase": True,
        "requireUppercase": False,
        "requireNumbers": False,
        "requireSymbols": False,
    }
    serve_config(tab, passwordPolicy=lax)
    page.goto(site.url + "#/signup")
    form = region(page, "Create an account")
    expect(form.get_by_text("At least 6 characters, with a lowercase letter.")).to_be_visible()
    form.get_by_label("Email").fill(f"lax-{uuid.uuid4().hex[:8]}@example.com")
    for field in ("Password", "Confirm password"):
        form.get_by_label(field, exact=True).fill("abcdefg")
    with tab.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page)).to_have_text(
            "That password does not meet the rules. At least 6 characters, with a lowercase letter."
        )


def test_an_address_already_signed_up_is_refused_in_words(
    open_tab: Any, site: Site, signed_in: Session
) -> None:
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page = tab.page
    page.goto(site.url + "#/signup")
    form = region(page, "Create an account")
    form.get_by_label("Email").fill(signed_in.email)
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Confirm password").fill(PASSWORD)
    with tab.watch.allow_status(400):
        form.get_by_role("button", name="Create account").click()
        expect(alert(page)).to_have_text(
            "An account with this email already exists. Sign in, or confirm it if you have not yet."
        )


def test_a_new_confirmation_code_says_when_it_was_sent(open_tab: Any, site: Site) -> None:
    # As on AWS, where mail is sent: the confirmation screen says when the newest code went out.
    # moto has no ResendConfirmationCode, so this test answers that one call as Cognito's API
    # reference documents it (CodeDeliveryDetails); sign-up and confirmation are the emulator's.
    tab: Tab = open_tab(viewport={"width": 1100, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = tab.page
    serve_config(tab, local=False)
    endpoint = site.config["cognitoEndpoint"]
    resent: list[str] = []

    def resend(route: Any) -> None:
        target = route.request.headers.get("x-amz-target", "")
        if not target.endswith(".ResendConfirmationCode"):
            route.fallback()
            return
        resent.append(json.loads(route.request.post_data or "{}")["Username"])
        route.fulfill(
            status=200,
            content_type="application/x-amz-json-1.1",
            headers={"Access-Control-Allow-Origin": site.url.rstrip("/")},
            body=json.dumps(
                {
                    "CodeDeliveryDetails": {
                        "AttributeName": "email",
                        "DeliveryMedium": "EMAIL",
                        "Destination": "r***@e***",
                    }
                }
            ),
        )

    page.route(endpoint, resend)
    page.clock.install(time="2026-03-02T14:05:00Z")
    email = f"resend-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(site.url + "#/signup")
    form = region(page, "Create an account")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Confirm password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    confirm = region(page, "Confirm your account")
    sent = confirm.locator("#confirm-sent")
    expect(sent).to_have_text(re.compile(r"^Code sent to .+ at 14:05\.$"))
    page.clock.fast_forward("02:00")
    confirm.get_by_role("button", name="Send a new code").click()
    expect(sent).to_have_text("Code sent to r***@e*** at 14:07.")
    expect(status(page)).to_have_text(
        "We sent a new code at 14:07. Use the newest code; earlier ones no longer work."
    )
    assert resent == [email]
    tab.screenshot("confirm-resend", height=700)
    confirm.get_by_label("Confirmation code").fill("123456")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My to-dos")).to_be_visible()
