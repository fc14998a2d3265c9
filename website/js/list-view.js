// The list: the signed-in person's to-dos, search, paging with the cursor, create, complete.

import * as api from "./api.js";
import * as model from "./model.js";
import { $, el, fail, focus, formatDate, formDraft, isOverdue, onSubmit, restoreDraft, say } from "./ui.js";

const SEARCH_DELAY_MS = 300;
const PAGE_SIZE = 20;

// What is on screen; `generation` drops the answer of a load a newer one has replaced.
const list = { items: [], cursor: null, search: "", generation: 0, loaded: false };
let searchTimer = 0;
// A half-typed to-do, kept off the page when a session expires, for the same person's return.
let draft = null;

export async function show() {
  if (draft) restoreDraft(draft);
  draft = null;
  await load({ reset: true });
}

// Nothing of the person who was signed in stays on the page: not their search, a half-typed
// to-do, nor a page still loading. With `keepDraft` (the session expired) the half-typed to-do
// is kept in memory, and show() puts it back.
export function reset({ keepDraft = false } = {}) {
  draft = keepDraft ? formDraft("create-form") : null;
  clearTimeout(searchTimer);
  list.generation += 1;
  Object.assign(list, { items: [], cursor: null, search: "", loaded: false });
  $("search").value = "";
  $("todo-list").replaceChildren();
  $("list-count").textContent = "";
  $("load-more").hidden = true;
  $("create-form").reset();
}

async function load({ reset }) {
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
    updateMeta();
    return nodes;
  } catch (error) {
    if (generation === list.generation) fail(error);
    return [];
  } finally {
    if (generation === list.generation) ul.setAttribute("aria-busy", "false");
  }
}

function updateMeta() {
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
      Object.assign(todo, updated, { completed });
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

// A to-do's state and due date, as the list and the details show them.
export function metaParts(todo) {
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
    load({ reset: true });
  }, SEARCH_DELAY_MS);
});

$("load-more").addEventListener("click", async () => {
  const nodes = await load({ reset: false });
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
    say(`Added “${created.title}”.`);
    await load({ reset: true });
    $("create-title").focus();
  };
});
