"""Two users in two tabs: neither sees anything of the other's, even by a direct URL."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, Tab
from tests.e2e.pages import Session, alert, create_todo, sign_up, todo_list

pytestmark = pytest.mark.browser


def test_another_user_sees_nothing_even_by_direct_url(
    signed_in: Session, open_tab: Any, site: Site
) -> None:
    page = signed_in.page
    for title in ("Buy milk", "Write the quarterly report", "Water the plants"):
        create_todo(page, title)
    todo_list(page).get_by_role("link", name="Write the quarterly report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write the quarterly report")
    todo_id = page.url.rsplit("/", 1)[1]

    other: Tab = open_tab(viewport={"width": 1100, "height": 900})
    page_b = other.page
    sign_up(other, f"other-{signed_in.email}")
    expect(page_b.get_by_text("Nothing here yet.")).to_be_visible()
    page_b.get_by_label("Search titles").fill("report")
    expect(page_b.get_by_text("No to-dos match “report”.")).to_be_visible()
    with other.watch.allow_status(404):
        page_b.goto(site.url + f"#/todos/{todo_id}")
        expect(page_b.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(alert(page_b)).to_contain_text("not found")
        expect(page_b.get_by_label("Notes")).to_be_hidden()

    # and the first still sees only their three
    page.goto(site.url + "#/")
    page.reload()
    expect(todo_list(page).locator(".todo")).to_have_count(3)
