"""A to-do's details: notes, done and reopened, attachments, and deleting it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Session, create_todo, status, todo_list

pytestmark = pytest.mark.browser


def open_details(session: Session, title: str) -> None:
    page = session.page
    create_todo(page, title)
    todo_list(page).get_by_role("link", name=title).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(title)
    expect(heading).to_be_focused()


def test_notes_are_saved_and_survive_a_reload(signed_in: Session) -> None:
    # a reload signs in again silently with the refresh token
    page = signed_in.page
    open_details(signed_in, "Write the quarterly report")
    page.get_by_label("Notes").fill("Ask finance for the March figures.\nDraft by Friday.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_label("Notes")).to_have_value(
        "Ask finance for the March figures.\nDraft by Friday."
    )
    expect(page.locator("#who")).to_have_text(signed_in.email)


def test_a_todo_is_marked_done_and_reopened(signed_in: Session) -> None:
    page = signed_in.page
    open_details(signed_in, "Write the quarterly report")
    page.get_by_role("button", name="Mark as done").click()
    expect(status(page)).to_have_text("Marked as done.")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    page.get_by_role("button", name="Reopen").click()
    expect(status(page)).to_have_text("Reopened.")


def test_attachments_upload_with_progress_download_and_delete(
    signed_in: Session, tmp_path: Path
) -> None:
    # through the presigned POST, then the presigned GET
    page = signed_in.page
    open_details(signed_in, "Write the quarterly report")
    page.get_by_label("Notes").fill("Ask finance for the March figures.\nDraft by Friday.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved.")
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
    signed_in.tab.screenshot("details")

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


def test_deleting_a_todo_asks_first_and_can_be_cancelled(signed_in: Session) -> None:
    page = signed_in.page
    for title in ("Buy milk", "Write the quarterly report", "Water the plants"):
        create_todo(page, title)
    open_details(signed_in, "Call the plumber")
    delete = page.get_by_role("button", name="Delete…")
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete this to-do?")
    expect(dialog).to_contain_text("“Call the plumber” and its attachments will be deleted.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    signed_in.tab.screenshot("delete-dialog", height=700)
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
