// Small DOM helpers: building elements safely (text, never HTML), messages, focus, the dialog.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Live regions announce a change of their text; clearing first makes a repeated message count.
const pendingText = new WeakMap();

function announce(region, text) {
  clearTimeout(pendingText.get(region));
  region.textContent = "";
  if (text) pendingText.set(region, setTimeout(() => (region.textContent = text), 30));
}

export function say(text) {
  announce($("alert"), "");
  announce($("status"), text);
}

export function fail(error) {
  const text = typeof error === "string" ? error : error?.message || "Something went wrong.";
  announce($("status"), "");
  announce($("alert"), text);
}

export function clearMessages() {
  announce($("status"), "");
  announce($("alert"), "");
}

export function focus(node) {
  if (!node) return;
  if (!node.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(node.tagName)) {
    node.setAttribute("tabindex", "-1");
  }
  node.focus();
}

// Runs one submission at a time per form and marks it busy for assistive technology.
export async function busy(form, work) {
  if (form.getAttribute("aria-busy") === "true") return;
  form.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    form.setAttribute("aria-busy", "false");
  }
}

// Checks required fields the way the browser would, but reports in our message area and
// moves focus to the first field to fix.
export function validate(form) {
  for (const field of form.querySelectorAll("input, textarea")) field.removeAttribute("aria-invalid");
  for (const field of form.querySelectorAll("input, textarea")) {
    const value = field.type === "file" ? field.files.length : field.value.trim();
    if (field.required && !value) return invalid(field, "is required.");
    if (field.value && !field.checkValidity()) return invalid(field, field.validationMessage || "is not valid.");
  }
  return true;
}

// Marks a field invalid and says why, after its label ("Password: needs a number."); false.
export function invalid(field, problem) {
  const label = field.labels?.[0]?.firstChild?.textContent?.trim() || field.name;
  field.setAttribute("aria-invalid", "true");
  fail(problem.endsWith("required.") ? `${label} ${problem}` : `${label}: ${problem}`);
  field.focus();
  return false;
}

// A modal <dialog> that resolves true when the person confirms. Focus returns to where it was.
export function confirmDialog({ title, text, confirmLabel = "Delete" }) {
  const dialog = $("confirm-dialog");
  const opener = document.activeElement;
  $("dialog-title").textContent = title;
  $("dialog-text").textContent = text;
  $("dialog-confirm").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener && document.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
    dialog.showModal();
    $("dialog-cancel").focus();
  });
}

// The time of day now, as a person reads it here ("14:05" or "2:05 PM").
export function clockTime(date = new Date()) {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso) {
  if (!iso) return "";
  const day = String(iso).slice(0, 10);
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function isOverdue(iso) {
  if (!iso) return false;
  const today = new Date();
  const local = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  return String(iso).slice(0, 10) < local;
}

// Every form: no page load, the browser's checks reported in our message area, one submission
// at a time. `prepare(form)` reads the valid fields and returns the work to run (or nothing);
// a failure of that work is shown.
export function onSubmit(id, prepare) {
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

// A "Send a new code" button: `send(email)` asks for a code to the address in the `emailId` field
// and returns what to say; focus then moves to the code field. No address: it is asked for first.
export function onResend(buttonId, emailId, codeId, send) {
  $(buttonId).addEventListener("click", async () => {
    const field = $(emailId);
    const email = field.value.trim();
    if (!email || !field.checkValidity()) {
      fail("Enter your email first, then ask for a new code.");
      field.focus();
      return;
    }
    try {
      say(await send(email));
      $(codeId).focus();
    } catch (error) {
      fail(error);
    }
  });
}

// What a person has typed into a form's fields (not files), by field ID, to put back later.
export function formDraft(id) {
  const values = {};
  for (const field of $(id).elements) {
    if (field.id && field.type !== "file" && "value" in field && field.tagName !== "BUTTON") {
      values[field.id] = field.value;
    }
  }
  return values;
}

export function restoreDraft(values) {
  for (const [id, value] of Object.entries(values)) $(id).value = value;
}
