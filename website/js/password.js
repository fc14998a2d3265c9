// The user pool's password rules, as config.js carries them from the template's PasswordPolicy
// (`make up` and `make publish-website` write both from templates/core.yaml), so this page
// shows and checks exactly what Cognito will enforce.

import { config } from "./settings.js";
import { invalid } from "./ui.js";

// What Cognito counts as a symbol: these characters, and a space that is neither first nor last
// (Cognito developer guide, "Password policies" under managing users' passwords).
const SYMBOLS = new Set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-");

function hasSymbol(password) {
  return [...password].some((c, i) => SYMBOLS.has(c) || (c === " " && i > 0 && i < password.length - 1));
}

function kinds(policy) {
  return [
    [policy.requireLowercase, "a lowercase letter", (p) => /[a-z]/.test(p)],
    [policy.requireUppercase, "an uppercase letter", (p) => /[A-Z]/.test(p)],
    [policy.requireNumbers, "a number", (p) => /[0-9]/.test(p)],
    [policy.requireSymbols, "a symbol (like ! or #)", hasSymbol],
  ].filter(([required]) => required);
}

function list(items) {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// "At least 12 characters, with a lowercase letter, an uppercase letter, a number and a symbol."
export function describe(policy = config.passwordPolicy) {
  const needs = kinds(policy).map(([, words]) => words);
  const length = `At least ${policy.minimumLength} characters`;
  return needs.length ? `${length}, with ${list(needs)}.` : `${length}.`;
}

// What the password still lacks, in words ("12 characters", "a number"); empty when it is fine.
export function missing(password, policy = config.passwordPolicy) {
  const lacks = [];
  if ([...password].length < policy.minimumLength) lacks.push(`at least ${policy.minimumLength} characters`);
  for (const [, words, test] of kinds(policy)) if (!test(password)) lacks.push(words);
  return lacks;
}

// Checks a new password and its repetition as the form is sent; on a problem, says it in words
// next to the field's name, marks the field and moves focus there (false).
export function check(field, again) {
  const lacks = missing(field.value);
  if (lacks.length) return invalid(field, `needs ${list(lacks)}.`);
  if (field.value !== again.value) return invalid(again, "is not the same as the password above.");
  return true;
}

// The words for a password Cognito refused: the rules, never the service's own wording.
export function refusal() {
  return `That password does not meet the rules. ${describe()}`;
}

// Shows the rules under a new-password field. (No `minlength`: the browser would then refuse a
// short password in its own words, before `check` can name everything that is missing.)
export function annotate(hint) {
  hint.textContent = describe();
}
