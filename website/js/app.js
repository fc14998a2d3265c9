// Entry point: the hash router over seven screens, each view in its own module with show() and
// reset(): sign in, sign up and confirm (auth-view.js), a forgotten password and the new one
// (recovery-view.js), the list (list-view.js), one to-do's details (details-view.js). A
// session's end resets every view.

import * as authView from "./auth-view.js";
import * as detailsView from "./details-view.js";
import * as listView from "./list-view.js";
import * as recoveryView from "./recovery-view.js";
import { go, fromGo, onNavigate } from "./nav.js";
import * as session from "./session.js";
import { config } from "./settings.js";
import { $, clearMessages, fail, focus, say } from "./ui.js";

const SCREENS = ["signin", "signup", "confirm", "forgot", "reset", "list", "details"];
const SIGNED_OUT = ["signin", "signup", "confirm", "forgot", "reset"];
const RECOVERY = ["forgot", "reset"];
const VIEWS = [authView, recoveryView, listView, detailsView];

let firstRender = true;
// A session that expired: the same person signing back in returns where they were, to what they
// had typed; anyone else starts afresh. { email, hash }
let interrupted = null;

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const match = /^\/todos\/([^/]+)$/.exec(hash);
  if (match) return { screen: "details", id: decodeId(match[1]) };
  if (SIGNED_OUT.includes(hash.slice(1))) return { screen: hash.slice(1) };
  return { screen: "list" };
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

function reveal(screen) {
  for (const name of SCREENS) $(`view-${name}`).hidden = name !== screen;
  const signedIn = session.signedIn();
  $("account").hidden = !signedIn;
  $("who").textContent = signedIn ? session.email() : "";
}

async function render() {
  if (interrupted && session.signedIn()) {
    const back = interrupted;
    interrupted = null;
    if (session.email() === back.email) history.replaceState(null, "", back.hash || "#/");
    else for (const view of VIEWS) view.reset();
  }
  const target = route();
  const signedOutScreen = SIGNED_OUT.includes(target.screen);
  if (!session.signedIn() && !signedOutScreen) {
    history.replaceState(null, "", "#/signin");
    return render();
  }
  if (session.signedIn() && signedOutScreen) {
    history.replaceState(null, "", "#/");
    return render();
  }
  reveal(target.screen);
  // Move focus to the new view's heading (not on first load, where the page itself is new).
  const heading = $(`view-${target.screen}`).querySelector("h1");
  if (!firstRender) focus(heading);
  firstRender = false;
  document.title = `${heading.textContent} · To-do`;
  if (target.screen === "list") await listView.show();
  else if (target.screen === "details") await detailsView.show(target.id);
  else if (RECOVERY.includes(target.screen)) recoveryView.show(target.screen);
  else authView.show(target.screen);
}

// The hash is the router's, so the skip link moves focus itself instead of navigating.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  focus($("main"));
});

$("sign-out").addEventListener("click", async () => {
  await session.signOut();
});

// Whoever signs in next in this tab must see nothing of the previous person. A session that
// expired keeps what its person was typing (in memory, not on the page) for their return.
session.onEnd((reason, who) => {
  const expired = reason === "expired";
  interrupted = expired ? { email: who, hash: location.hash } : null;
  for (const view of VIEWS) view.reset({ keepDraft: expired });
  go("#/signin");
  if (expired) fail("Your session has ended. Sign in again to continue where you left off.");
  else say("You are signed out.");
});

async function start() {
  if (config.error) {
    for (const name of SCREENS) $(`view-${name}`).hidden = true;
    fail(config.error);
    return;
  }
  onNavigate(render);
  window.addEventListener("hashchange", () => {
    if (!fromGo()) clearMessages();
    render();
  });
  await session.resume();
  await render();
  document.documentElement.dataset.ready = "true";
}

start();
