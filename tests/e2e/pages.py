"""The website as a person uses it: the helpers every end-to-end feature test shares."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Site, Tab

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
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Confirm password").fill(PASSWORD)
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


def serve_config(tab: Tab, **changes: Any) -> dict[str, Any]:
    """Serves this tab a config.js with `changes` (the page reads nothing else), and returns it."""
    config = {**tab.site.config, **changes}
    body = f"window.TODO_CONFIG = {json.dumps(config)};\n"
    tab.page.route(
        tab.site.url + "config.js",
        lambda route: route.fulfill(body=body, content_type="text/javascript; charset=utf-8"),
    )
    return config


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


@dataclass(frozen=True)
class Session:
    """A tab in which a new user has signed up and is signed in, on the list screen."""

    tab: Tab
    email: str

    @property
    def page(self) -> Page:
        return self.tab.page
