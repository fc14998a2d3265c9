// One to-do's details: edit it, complete or reopen it, delete it, and its attachments (upload
// with progress through the presigned POST, download, delete).

import * as api from "./api.js";
import { metaParts } from "./list-view.js";
import * as model from "./model.js";
import { go } from "./nav.js";
import { $, confirmDialog, el, fail, focus, formatSize, formDraft, onSubmit, restoreDraft, say } from "./ui.js";

let shown = null; // the ID asked for: an answer for another one is dropped
let todo = null; // the to-do on screen, once loaded; the forms act on it
// Counts resets: an upload that ends after the person who started it has left shows nothing.
let epoch = 0;
// Unsaved edits of a to-do, kept off the page when a session expires, for the same person's
// return to it: { id, fields }.
let draft = null;

export async function show(id) {
  shown = id;
  todo = null;
  $("details-body").hidden = true;
  $("details-heading").textContent = "Loading…";
  $("file-list").replaceChildren();
  $("upload-status").hidden = true;
  try {
    const [current, files] = await Promise.all([api.getTodo(id), api.listFiles(id)]);
    if (shown !== id) return; // navigated away meanwhile
    todo = current;
    fill(current);
    if (draft?.id === id) restoreDraft(draft.fields);
    draft = null;
    renderFiles(files);
    $("details-body").hidden = false;
  } catch (error) {
    if (shown !== id) return;
    $("details-heading").textContent = error.status === 404 ? "Not found" : "Could not load this to-do";
    document.title = `${$("details-heading").textContent} · To-do`;
    fail(error.status === 404 ? "That to-do was not found. It may have been deleted, or it is not yours." : error);
  }
}

// Nothing of the person who was signed in stays on the page: no notes, no presigned download
// links. With `keepDraft` (the session expired) unsaved edits are kept in memory for show().
export function reset({ keepDraft = false } = {}) {
  draft = keepDraft && todo ? { id: model.todoId(todo), fields: formDraft("details-form") } : null;
  epoch += 1;
  shown = null;
  todo = null;
  $("details-body").hidden = true;
  $("details-heading").textContent = "To-do";
  $("details-state").replaceChildren();
  $("file-list").replaceChildren();
  $("upload-status").hidden = true;
  for (const form of ["details-form", "upload-form"]) $(form).reset();
}

function fill(current) {
  $("details-heading").textContent = current.title;
  document.title = `${current.title} · To-do`;
  $("details-title").value = current.title;
  $("details-description").value = current.description ?? "";
  $("details-due").value = current.dateDue ? String(current.dateDue).slice(0, 10) : "";
  $("details-notes").value = current.notes ?? "";
  $("details-state").replaceChildren(...metaParts(current));
  $("toggle-complete").textContent = current.completed ? "Reopen" : "Mark as done";
}

// The details and upload forms sit in #details-body, hidden while no to-do is loaded.
onSubmit("details-form", () => {
  if (!todo) return null;
  const id = model.todoId(todo);
  const fields = {
    title: $("details-title").value.trim(),
    description: $("details-description").value,
    notes: $("details-notes").value,
    dateDue: $("details-due").value || null,
  };
  return async () => {
    todo = await api.updateTodo(id, fields);
    fill(todo);
    say("Saved.");
  };
});

$("toggle-complete").addEventListener("click", async () => {
  if (!todo) return;
  const completed = !todo.completed;
  try {
    todo = await api.updateTodo(model.todoId(todo), { completed });
    fill(todo);
    say(completed ? "Marked as done." : "Reopened.");
  } catch (error) {
    fail(error);
  }
});

$("delete-todo").addEventListener("click", async () => {
  if (!todo) return;
  const deleting = todo;
  const ok = await confirmDialog({
    title: "Delete this to-do?",
    text: `“${deleting.title}” and its attachments will be deleted. This cannot be undone.`,
  });
  if (!ok) return;
  try {
    await api.deleteTodo(model.todoId(deleting));
    todo = null;
    go("#/");
    say(`Deleted “${deleting.title}”.`);
  } catch (error) {
    fail(error);
  }
});

// ---------------------------------------------------------------- attachments

function renderFiles(items) {
  $("file-list").replaceChildren(...items.map(fileItem));
  $("files-empty").hidden = items.length > 0;
}

function fileItem(file) {
  const name = model.fileName(file);
  const link = el("a", { href: model.downloadUrl(file) || "#", className: "file-name", text: name, rel: "noopener" });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    download(file, link);
  });
  const remove = el("button", { type: "button", className: "danger small", "aria-label": `Delete ${name}`, text: "Delete" });
  remove.addEventListener("click", () => removeFile(file, remove));
  return el(
    "li",
    { className: "file", "data-id": model.fileId(file) },
    link,
    el("span", { className: "file-size", text: formatSize(model.fileSize(file)) }),
    remove,
  );
}

async function download(file, link) {
  const name = model.fileName(file);
  const url = model.downloadUrl(file);
  if (!url) {
    fail(`${name} is not ready to download yet.`);
    return;
  }
  link.setAttribute("aria-busy", "true");
  try {
    const blob = await api.downloadBlob(url);
    const objectUrl = URL.createObjectURL(blob);
    const save = el("a", { href: objectUrl, download: name, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(objectUrl), 60_000);
    say(`Downloaded ${name}.`);
  } catch (error) {
    fail(error);
  } finally {
    link.setAttribute("aria-busy", "false");
  }
}

async function removeFile(file, button) {
  if (!todo) return;
  const name = model.fileName(file);
  const ok = await confirmDialog({ title: "Delete this attachment?", text: `“${name}” will be deleted.` });
  if (!ok) return;
  try {
    await api.deleteFile(model.todoId(todo), model.fileId(file));
    button.closest("li").remove();
    $("files-empty").hidden = $("file-list").children.length > 0;
    say(`Deleted ${name}.`);
    focus($("files-title"));
  } catch (error) {
    fail(error);
  }
}

async function refreshFiles(todoId) {
  const files = await api.listFiles(todoId);
  if (todo && model.todoId(todo) === todoId) renderFiles(files);
}

onSubmit("upload-form", (form) => {
  if (!todo) return null;
  const chosen = $("file-input").files[0]; // the browser's File, not an API record
  if (chosen.size === 0) {
    // The API registers only files with content (S3 pins the exact size); say so in words.
    fail(`${chosen.name} is empty: there is nothing to upload.`);
    $("file-input").setAttribute("aria-invalid", "true");
    $("file-input").focus();
    return null;
  }
  const todoId = model.todoId(todo);
  const progress = $("upload-progress");
  const percent = $("upload-percent");
  const setProgress = (loaded, total) => {
    const value = total ? Math.round((loaded / total) * 100) : 0;
    progress.value = value;
    progress.textContent = `${value}%`;
    percent.textContent = `${value}%`;
  };
  const mine = epoch;
  return async () => {
    let registered = null;
    setProgress(0, 1);
    $("upload-label").textContent = `Uploading ${chosen.name}`;
    $("upload-status").hidden = false;
    try {
      const data = await api.registerFile(todoId, {
        name: chosen.name,
        contentType: chosen.type || "application/octet-stream",
        size: chosen.size,
      });
      registered = model.registeredFile(data);
      await api.uploadToS3(model.presigned(data), chosen, setProgress);
      registered = null;
      if (mine !== epoch) return; // the bytes are stored; the person who sent them has left
      $("upload-label").textContent = `Uploaded ${chosen.name}`;
      form.reset();
      say(`Uploaded ${chosen.name}.`);
      await refreshFiles(todoId);
    } catch (error) {
      if (mine !== epoch) return;
      fail(error);
      // Do not leave a record behind for bytes that never arrived.
      if (registered) api.deleteFile(todoId, model.fileId(registered)).catch(() => {});
    }
  };
});
