// Entry point: a hash router over five views (sign in, sign up, confirm, list, details).

import * as api from "./api.js";
import * as cognito from "./cognito.js";
import { config } from "./settings.js";
import * as model from "./model.js";
import * as session from "./session.js";
import {
  $, busy, clearMessages, confirmDialog, el, fail, focus, formatDate, formatSize, isOverdue, say, validate,
} from "./ui.js";

const SEARCH_DELAY_MS = 300;
const PAGE_SIZE = 20;
const VIEWS = ["signin", "signup", "confirm", "list", "details"];

// Kept only between sign-up and confirmation, so a confirmed account can sign straight in.
let pending = null; // { email, password }

// ---------------------------------------------------------------- routing

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const match = /^\/todos\/([^/]+)$/.exec(hash);
  if (match) return { view: "details", id: decodeId(match[1]) };
  if (hash === "/signin" || hash === "/signup" || hash === "/confirm") return { view: hash.slice(1) };
  return { view: "list" };
}

// A mistyped or truncated link ("%E0%A4") must not break the router: kept as typed, it names no
// to-do, and the details view says "Not found".
function decodeId(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

// Programmatic navigation keeps the message that explains it; a person's own navigation
// (links, back button) clears old messages.
let keepMessages = false;

function go(hash) {
  if (location.hash === hash) {
    render();
    return;
  }
  keepMessages = true;
  location.hash = hash;
}

function show(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  const signedIn = session.signedIn();
  $("account").hidden = !signedIn;
  $("who").textContent = signedIn ? session.email() : "";
}

let firstRender = true;

async function render() {
  const target = route();
  const authView = ["signin", "signup", "confirm"].includes(target.view);
  if (!session.signedIn() && !authView) {
    history.replaceState(null, "", "#/signin");
    return render();
  }
  if (session.signedIn() && authView) {
    history.replaceState(null, "", "#/");
    return render();
  }
  show(target.view);
  // Move focus to the new view's heading (not on first load, where the page itself is new).
  const heading = $(`view-${target.view}`).querySelector("h1");
  if (!firstRender) focus(heading);
  firstRender = false;
  document.title = `${heading.textContent} · To-do`;
  if (target.view === "list") await showList();
  if (target.view === "details") await showDetails(target.id);
  if (target.view === "confirm") prepareConfirm();
}

// ---------------------------------------------------------------- signed out

// Every form: no page load, the browser's checks reported in our message area, one submission
// at a time. `prepare(form)` reads the valid fields and returns the work to run (or nothing);
// a failure of that work is shown.
function onSubmit(id, prepare) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!validate(form)) return;
    const work = prepare(form);
    if (!work) return;
    busy(form, async () => {
      try {
        await work();
      } catch (error) {
        fail(error);
      }
    });
  });
}

function prepareConfirm() {
  $("confirm-local").hidden = !config.local;
  $("resend-code").hidden = config.local; // the emulator sends no mail and accepts any code
  if (pending && !$("confirm-email").value) $("confirm-email").value = pending.email;
}

onSubmit("signin-form", (form) => {
  const email = $("signin-email").value.trim();
  return async () => {
    try {
      await session.signIn(email, $("signin-password").value);
      form.reset();
      say(`Signed in as ${session.email()}.`);
      go("#/");
    } catch (error) {
      if (error.type === "UserNotConfirmedException") {
        pending = { email, password: $("signin-password").value };
        $("confirm-email").value = email;
        go("#/confirm");
      }
      throw error;
    }
  };
});

onSubmit("signup-form", (form) => {
  const email = $("signup-email").value.trim();
  const password = $("signup-password").value;
  return async () => {
    const result = await cognito.signUp(email, password);
    form.reset();
    pending = { email, password };
    if (result.UserConfirmed) {
      await finishConfirmation();
      return;
    }
    $("confirm-email").value = email;
    $("confirm-code").value = "";
    go("#/confirm");
    say(
      config.local
        ? `Account created for ${email}. Running locally: any confirmation code is accepted.`
        : `Account created. We sent a confirmation code to ${email}.`,
    );
  };
});

onSubmit("confirm-form", (form) => {
  const email = $("confirm-email").value.trim();
  return async () => {
    await cognito.confirmSignUp(email, $("confirm-code").value.trim());
    form.reset();
    if (pending && pending.email !== email) pending = null;
    await finishConfirmation(email);
  };
});

$("resend-code").addEventListener("click", async () => {
  const field = $("confirm-email");
  const email = field.value.trim();
  if (!email || !field.checkValidity()) {
    fail("Enter your email first, then ask for a new code.");
    field.focus();
    return;
  }
  try {
    await cognito.resendCode(email);
    say(`We sent a new code to ${email}.`);
    $("confirm-code").focus();
  } catch (error) {
    fail(error);
  }
});

async function finishConfirmation(email = pending?.email) {
  const credentials = pending;
  pending = null;
  if (credentials) {
    try {
      await session.signIn(credentials.email, credentials.password);
      say(`Account confirmed. Signed in as ${session.email()}.`);
      go("#/");
      return;
    } catch {
      /* fall through to the sign-in form */
    }
  }
  $("signin-email").value = email || "";
  go("#/signin");
  say("Account confirmed. Sign in with your email and password.");
  $("signin-password").focus();
}

// The hash is the router's, so the skip link moves focus itself instead of navigating.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  focus($("main"));
});

$("sign-out").addEventListener("click", async () => {
  await session.signOut();
});

session.onEnd((reason) => {
  forgetUser();
  go("#/signin");
  if (reason === "expired") fail("Your session has ended. Please sign in again.");
  else say("You are signed out.");
});

// Counts session ends: work started for a person who has since left shows nothing when it ends.
let epoch = 0;

// Whoever signs in next in this tab must see nothing of the previous person: not their search,
// a half-typed form, the hidden details view (notes, download links), nor a page still loading.
function forgetUser() {
  epoch += 1;
  pending = null;
  clearTimeout(searchTimer);
  list.generation += 1;
  Object.assign(list, { items: [], cursor: null, search: "", loaded: false });
  $("search").value = "";
  $("todo-list").replaceChildren();
  $("list-count").textContent = "";
  $("load-more").hidden = true;
  details.todo = null;
  $("details-body").hidden = true;
  $("details-heading").textContent = "To-do";
  $("details-state").replaceChildren();
  $("file-list").replaceChildren();
  $("upload-status").hidden = true;
  for (const form of ["create-form", "details-form", "upload-form"]) $(form).reset();
}

// ---------------------------------------------------------------- the list

const list = { items: [], cursor: null, search: "", generation: 0, loaded: false };
let searchTimer = 0;

async function showList() {
  await loadList({ reset: true });
}

async function loadList({ reset }) {
  const generation = ++list.generation;
  const ul = $("todo-list");
  ul.setAttribute("aria-busy", "true");
  try {
    // A search page may hold fewer matches than asked for (the filter runs after the read):
    // follow the cursor a few times so a page rarely comes back empty.
    const found = [];
    let cursor = reset ? "" : list.cursor;
    let rounds = 0;
    do {
      const pageOf = model.page(await api.listTodos({ search: list.search, cursor, limit: PAGE_SIZE }));
      if (generation !== list.generation) return []; // a newer search has started
      found.push(...pageOf.items);
      cursor = pageOf.cursor;
      rounds += 1;
    } while (list.search && cursor && found.length < PAGE_SIZE && rounds < 5);
    if (reset) {
      list.items = [];
      ul.replaceChildren();
    }
    const nodes = found.map(todoItem);
    list.items.push(...found);
    ul.append(...nodes);
    list.cursor = cursor;
    list.loaded = true;
    updateListMeta();
    return nodes;
  } catch (error) {
    if (generation === list.generation) fail(error);
    return [];
  } finally {
    if (generation === list.generation) ul.setAttribute("aria-busy", "false");
  }
}

function updateListMeta() {
  const count = list.items.length;
  $("list-empty").hidden = count > 0;
  if (list.search) {
    $("list-empty").textContent = list.cursor
      ? `No matches for “${list.search}” so far. Load more to keep searching.`
      : `No to-dos match “${list.search}”.`;
  } else {
    $("list-empty").textContent = "Nothing here yet. Add your first to-do above.";
  }
  $("load-more").hidden = !list.cursor;
  const more = list.cursor ? " (more available)" : "";
  $("list-count").textContent = list.search
    ? `${count} matching “${list.search}”${more}`
    : `${count} to-do${count === 1 ? "" : "s"}${more}`;
}

function todoItem(todo) {
  const id = model.todoId(todo);
  const titleId = `todo-title-${id}`;
  const done = Boolean(todo.completed);
  const checkbox = el("input", {
    type: "checkbox",
    className: "check",
    "aria-labelledby": titleId,
    "aria-describedby": `todo-meta-${id}`,
  });
  checkbox.checked = done;
  const item = el(
    "li",
    { className: done ? "todo done" : "todo", "data-id": id },
    checkbox,
    el(
      "div",
      { className: "todo-text" },
      el("a", { href: `#/todos/${encodeURIComponent(id)}`, id: titleId, className: "todo-title", text: todo.title }),
      todo.description ? el("p", { className: "todo-description", text: todo.description }) : null,
      el("p", { className: "todo-meta", id: `todo-meta-${id}` }, ...metaParts(todo)),
    ),
  );
  checkbox.addEventListener("change", async () => {
    const completed = checkbox.checked;
    checkbox.disabled = true;
    try {
      const updated = await api.updateTodo(id, { completed });
      const fresh = { ...todo, ...(updated || {}), completed };
      Object.assign(todo, fresh);
      item.classList.toggle("done", completed);
      item.querySelector(".todo-meta").replaceChildren(...metaParts(todo));
      say(completed ? `Completed “${todo.title}”.` : `Reopened “${todo.title}”.`);
    } catch (error) {
      checkbox.checked = !completed;
      fail(error);
    } finally {
      checkbox.disabled = false;
      checkbox.focus();
    }
  });
  return item;
}

function metaParts(todo) {
  const parts = [];
  parts.push(el("span", { className: "pill", text: todo.completed ? "Done" : "Open" }));
  if (todo.dateDue) {
    const overdue = !todo.completed && isOverdue(todo.dateDue);
    parts.push(
      el("span", { className: overdue ? "due overdue" : "due", text: `${overdue ? "Overdue" : "Due"} ${formatDate(todo.dateDue)}` }),
    );
  }
  return parts;
}

$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const value = $("search").value.trim();
    if (value === list.search) return;
    list.search = value;
    list.cursor = null;
    loadList({ reset: true });
  }, SEARCH_DELAY_MS);
});

$("load-more").addEventListener("click", async () => {
  const nodes = await loadList({ reset: false });
  if (nodes.length) focus(nodes[0].querySelector("a"));
});

onSubmit("create-form", (form) => {
  const fields = { title: $("create-title").value.trim() };
  const description = $("create-description").value.trim();
  if (description) fields.description = description;
  if ($("create-due").value) fields.dateDue = $("create-due").value;
  return async () => {
    const created = await api.createTodo(fields);
    form.reset();
    say(`Added “${created?.title ?? fields.title}”.`);
    await loadList({ reset: true });
    $("create-title").focus();
  };
});

// ---------------------------------------------------------------- details

const details = { todo: null };

async function showDetails(id) {
  details.todo = null;
  $("details-body").hidden = true;
  $("details-heading").textContent = "Loading…";
  $("file-list").replaceChildren();
  $("upload-status").hidden = true;
  try {
    const [todo, filesData] = await Promise.all([api.getTodo(id), api.listFiles(id)]);
    if (route().id !== id) return; // navigated away meanwhile
    details.todo = todo;
    fillDetails(todo);
    renderFiles(model.files(filesData));
    $("details-body").hidden = false;
  } catch (error) {
    if (route().id !== id) return;
    $("details-heading").textContent = error.status === 404 ? "Not found" : "Could not load this to-do";
    document.title = `${$("details-heading").textContent} · To-do`;
    fail(error.status === 404 ? "That to-do was not found. It may have been deleted, or it is not yours." : error);
  }
}

function fillDetails(todo) {
  $("details-heading").textContent = todo.title;
  document.title = `${todo.title} · To-do`;
  $("details-title").value = todo.title ?? "";
  $("details-description").value = todo.description ?? "";
  $("details-due").value = todo.dateDue ? String(todo.dateDue).slice(0, 10) : "";
  $("details-notes").value = todo.notes ?? "";
  const state = $("details-state");
  state.replaceChildren(...metaParts(todo));
  $("toggle-complete").textContent = todo.completed ? "Reopen" : "Mark as done";
}

// The details and upload forms sit in #details-body, hidden while details.todo is null.
onSubmit("details-form", () => {
  if (!details.todo) return null;
  const id = model.todoId(details.todo);
  const fields = {
    title: $("details-title").value.trim(),
    description: $("details-description").value,
    notes: $("details-notes").value,
    dateDue: $("details-due").value || null,
  };
  return async () => {
    const updated = await api.updateTodo(id, fields);
    details.todo = { ...details.todo, ...fields, ...(updated || {}) };
    fillDetails(details.todo);
    say("Saved.");
  };
});

$("toggle-complete").addEventListener("click", async () => {
  if (!details.todo) return;
  const id = model.todoId(details.todo);
  const completed = !details.todo.completed;
  try {
    const updated = await api.updateTodo(id, { completed });
    details.todo = { ...details.todo, ...(updated || {}), completed };
    fillDetails(details.todo);
    say(completed ? "Marked as done." : "Reopened.");
  } catch (error) {
    fail(error);
  }
});

$("delete-todo").addEventListener("click", async () => {
  if (!details.todo) return;
  const todo = details.todo;
  const ok = await confirmDialog({
    title: "Delete this to-do?",
    text: `“${todo.title}” and its attachments will be deleted. This cannot be undone.`,
  });
  if (!ok) return;
  try {
    await api.deleteTodo(model.todoId(todo));
    details.todo = null;
    go("#/");
    say(`Deleted “${todo.title}”.`);
  } catch (error) {
    fail(error);
  }
});

// ---------------------------------------------------------------- attachments

function renderFiles(items) {
  const ul = $("file-list");
  ul.replaceChildren(...items.map(fileItem));
  $("files-empty").hidden = items.length > 0;
}

function fileItem(file) {
  const name = model.fileName(file);
  const url = model.downloadUrl(file);
  const link = el("a", { href: url || "#", className: "file-name", text: name, rel: "noopener" });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    download(file, link);
  });
  const remove = el("button", { type: "button", className: "danger small", "aria-label": `Delete ${name}`, text: "Delete" });
  remove.addEventListener("click", () => removeFile(file, remove));
  const size = model.fileSize(file);
  return el(
    "li",
    { className: "file", "data-id": model.fileId(file) },
    link,
    el("span", { className: "file-size", text: Number.isFinite(size) ? formatSize(size) : "" }),
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
  const todo = details.todo;
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
  const data = await api.listFiles(todoId);
  if (details.todo && model.todoId(details.todo) === todoId) renderFiles(model.files(data));
}

onSubmit("upload-form", (form) => {
  if (!details.todo) return null;
  const file = $("file-input").files[0];
  if (file.size === 0) {
    // The API registers only files with content (S3 pins the exact size); say so in words.
    fail(`${file.name} is empty: there is nothing to upload.`);
    $("file-input").setAttribute("aria-invalid", "true");
    $("file-input").focus();
    return null;
  }
  const todoId = model.todoId(details.todo);
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
    $("upload-label").textContent = `Uploading ${file.name}`;
    $("upload-status").hidden = false;
    try {
      const data = await api.registerFile(todoId, {
        name: file.name,
        contentType: file.type || "application/octet-stream",
        size: file.size,
      });
      registered = model.registeredFile(data);
      await api.uploadToS3(model.presigned(data), file, setProgress);
      registered = null;
      if (mine !== epoch) return; // the bytes are stored; the person who sent them has left
      $("upload-label").textContent = `Uploaded ${file.name}`;
      form.reset();
      say(`Uploaded ${file.name}.`);
      await refreshFiles(todoId);
    } catch (error) {
      if (mine !== epoch) return;
      fail(error);
      // Do not leave a record behind for bytes that never arrived.
      if (registered && model.fileId(registered)) {
        api.deleteFile(todoId, model.fileId(registered)).catch(() => {});
      }
    }
  };
});

// ---------------------------------------------------------------- start

async function start() {
  if (config.error) {
    for (const name of VIEWS) $(`view-${name}`).hidden = true;
    fail(config.error);
    return;
  }
  window.addEventListener("hashchange", () => {
    if (!keepMessages) clearMessages();
    keepMessages = false;
    render();
  });
  await session.resume();
  await render();
  document.documentElement.dataset.ready = "true";
}

start();
