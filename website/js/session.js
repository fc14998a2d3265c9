// Who is signed in, and their tokens.
//
// The id and access tokens live in memory only; the refresh token is kept in sessionStorage so
// that a reload of the tab signs the person back in silently (one REFRESH_TOKEN_AUTH call).
// sessionStorage belongs to this tab and this origin and is cleared when the tab closes; the
// strict CSP (scripts from this origin only, no inline script) is what keeps other code from
// reading it. Tokens are renewed a minute before the id token expires, and once more when the
// API answers 401.

import * as cognito from "./cognito.js";

const REFRESH_KEY = "todo.refreshToken";
const EMAIL_KEY = "todo.email";
const EARLY_SECONDS = 60;

let tokens = null; // { idToken, accessToken, refreshToken, expiresAt (ms), email }
let timer = 0;
let inflight = null;
// Bumped when a session ends: a renewal that was already on its way must not bring it back.
let generation = 0;
const listeners = new Set();

// A renewal's answer that arrived after the session it belonged to had ended: it is dropped.
export class SessionEnded extends Error {
  constructor() {
    super("The session ended while it was being renewed.");
    this.name = "SessionEnded";
  }
}

function decodePayload(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session then lasts until the tab reloads
  }
}

function notify(reason, who) {
  for (const listener of listeners) listener(reason, who);
}

function schedule() {
  clearTimeout(timer);
  if (!tokens) return;
  const delay = Math.max(5_000, tokens.expiresAt - Date.now() - EARLY_SECONDS * 1000);
  timer = setTimeout(() => {
    refresh().catch((error) => {
      if (!(error instanceof SessionEnded)) end("expired");
    });
  }, Math.min(delay, 2_147_000_000));
}

function accept(result, email) {
  const claims = decodePayload(result.IdToken);
  const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (result.ExpiresIn || 3600) * 1000;
  tokens = {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || tokens?.refreshToken,
    expiresAt,
    email: claims.email || email || tokens?.email || "",
  };
  const store = storage();
  store?.setItem(REFRESH_KEY, tokens.refreshToken);
  store?.setItem(EMAIL_KEY, tokens.email);
  schedule();
}

function end(reason) {
  generation += 1;
  inflight = null;
  clearTimeout(timer);
  const had = tokens !== null;
  const who = tokens?.email || storage()?.getItem(EMAIL_KEY) || "";
  tokens = null;
  const store = storage();
  store?.removeItem(REFRESH_KEY);
  store?.removeItem(EMAIL_KEY);
  if (had || reason === "expired") notify(reason, who);
}

export function onEnd(listener) {
  listeners.add(listener);
}

export function signedIn() {
  return tokens !== null;
}

export function email() {
  return tokens?.email || "";
}

export async function signIn(emailAddress, password) {
  const result = await cognito.passwordAuth(emailAddress, password);
  accept(result, emailAddress);
}

// One refresh at a time: concurrent callers share it.
export function refresh() {
  if (!inflight) {
    const refreshToken = tokens?.refreshToken || storage()?.getItem(REFRESH_KEY);
    if (!refreshToken) return Promise.reject(new Error("not signed in"));
    const previousEmail = tokens?.email || storage()?.getItem(EMAIL_KEY) || "";
    const started = generation;
    const renewal = cognito
      .refreshAuth(refreshToken)
      .then((result) => {
        if (started !== generation) throw new SessionEnded();
        accept({ ...result, RefreshToken: result.RefreshToken || refreshToken }, previousEmail);
      })
      .catch((error) => {
        throw started === generation ? error : new SessionEnded();
      })
      .finally(() => {
        if (inflight === renewal) inflight = null;
      });
    inflight = renewal;
  }
  return inflight;
}

// Restores a session after a reload, if this tab has a refresh token.
export async function resume() {
  if (!storage()?.getItem(REFRESH_KEY)) return false;
  try {
    await refresh();
    return true;
  } catch {
    end("resume-failed");
    return false;
  }
}

// The id token for the API (its audience is the app client, as the authorizer expects),
// renewed first when it is about to expire.
export async function idToken() {
  if (!tokens) throw new Error("not signed in");
  if (tokens.expiresAt - Date.now() < 30_000) await refresh();
  return tokens.idToken;
}

export async function signOut() {
  const ending = tokens;
  end("signed-out");
  if (!ending) return;
  // Revokes the refresh tokens everywhere; the local sign-out above does not wait for it.
  try {
    let accessToken = ending.accessToken;
    if (ending.expiresAt - Date.now() < 30_000) {
      // A tab that slept through its renewal holds an expired access token, which GlobalSignOut
      // refuses: every session would stay valid. Renew once, only to revoke.
      accessToken = (await cognito.refreshAuth(ending.refreshToken)).AccessToken;
    }
    await cognito.globalSignOut(accessToken);
  } catch {
    /* signed out locally either way */
  }
}

export function expire() {
  end("expired");
}
