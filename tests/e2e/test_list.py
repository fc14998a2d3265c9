"""The list: create, the API's order, search, completing, and paging with the cursor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site
from tests.e2e.pages import (
    Session,
    alert,
    api_create,
    create_todo,
    id_token,
    status,
    todo_list,
    todo_titles,
)

pytestmark = pytest.mark.browser


def four_todos(session: Session) -> None:
    page = session.page
    create_todo(page, "Buy milk", "Two litres, semi-skimmed", "2030-01-15")
    create_todo(page, "Write the quarterly report", "Numbers from the dashboard", "2030-01-10")
    create_todo(page, "Call the plumber")
    create_todo(page, "Water the plants", due="2030-02-01")


def test_create_names_a_missing_title_and_lists_in_the_apis_order(signed_in: Session) -> None:
    page = signed_in.page
    page.locator("#create-form").get_by_role("button", name="Add to-do").click()
    expect(alert(page)).to_have_text("Title is required.")
    expect(page.locator("#create-title")).to_be_focused()
    four_todos(signed_in)
    # open first, then by due date, then newest: as the API returns it
    expect(todo_list(page).locator(".todo-title")).to_have_text(
        ["Write the quarterly report", "Buy milk", "Water the plants", "Call the plumber"]
    )


def test_search_filters_titles_and_says_when_the_server_is_unreachable(
    signed_in: Session, site: Site
) -> None:
    page = signed_in.page
    four_todos(signed_in)
    # debounced, a case-insensitive substring of the title
    page.get_by_label("Search titles").fill("MILK")
    expect(todo_list(page).locator(".todo-title")).to_have_text(["Buy milk"])
    expect(page.locator("#list-count")).to_have_text("1 matching “MILK”")
    page.get_by_label("Search titles").fill("nothing-like-this")
    expect(page.get_by_text("No to-dos match “nothing-like-this”.")).to_be_visible()
    # a network failure is reported in words
    offline = re.compile(re.escape(site.api) + r"/todos\?.*search=offline")
    page.route(offline, lambda route: route.abort())
    with signed_in.tab.watch.allow(r"net::ERR_FAILED"):
        page.get_by_label("Search titles").fill("offline")
        expect(alert(page)).to_have_text(
            "Cannot reach the server. Check your connection and try again."
        )
    page.unroute(offline)
    page.get_by_label("Search titles").fill("")
    expect(todo_list(page).locator(".todo")).to_have_count(4)


def test_a_todo_is_completed_from_the_list(signed_in: Session) -> None:
    page = signed_in.page
    four_todos(signed_in)
    plants = todo_list(page).locator(".todo", has_text="Water the plants")
    plants.get_by_role("checkbox").check()
    expect(status(page)).to_have_text("Completed “Water the plants”.")
    expect(plants).to_have_class(re.compile(r"\bdone\b"))
    signed_in.tab.screenshot("list")


def test_load_more_pages_with_the_cursor(signed_in: Session, site: Site) -> None:
    # 23 to-dos, 20 per page
    page = signed_in.page
    token = id_token(site, signed_in.email)
    for n in range(23):
        api_create(site, token, f"Bulk {n:02d}")
    page.goto(site.url + "#/")
    page.reload()
    expect(todo_list(page).locator(".todo")).to_have_count(20)
    expect(page.locator("#list-count")).to_have_text("20 to-dos (more available)")
    page.get_by_role("button", name="Load more").click()
    expect(todo_list(page).locator(".todo")).to_have_count(23)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert len(set(todo_titles(page))) == 23
