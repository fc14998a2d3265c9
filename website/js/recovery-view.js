// The signed-out views for a forgotten password: ask for a code (ForgotPassword), then set a new
// password with it (ConfirmForgotPassword).
//
// The app client prevents user-existence errors, so Cognito answers "send a code" for an address
// no account uses as if it had sent one, or with InvalidParameterException, in turns. Nothing
// here may tell the two apart: every answer to "send a code" reads the same, and a code refused
// for an unknown address reads like a wrong code.

import * as cognito from "./cognito.js";
import { go } from "./nav.js";
import * as password from "./password.js";
import * as session from "./session.js";
import { config } from "./settings.js";
import { $, clockTime, onResend, onSubmit, say } from "./ui.js";

const AS_IF_SENT = new Set(["UserNotFoundException", "InvalidParameterException", "ResourceNotFoundException"]);
const AS_WRONG_CODE = new Set(["CodeMismatchException", "UserNotFoundException", "ResourceNotFoundException"]);
const WRONG_CODE =
  "That code is not correct for this email address. Check both, or choose “Send a new code” and use the newest code.";

password.annotate($("reset-password-hint"));

export function show(view) {
  if (view === "forgot" && !$("forgot-email").value) $("forgot-email").value = $("signin-email").value.trim();
  if (view !== "reset") return;
  $("reset-local").hidden = !config.local;
  $("reset-intro").hidden = config.local;
  if (!$("reset-email").value) $("reset-email").value = $("forgot-email").value.trim();
}

export function reset() {
  for (const id of ["forgot-form", "reset-form"]) $(id).reset();
  noteSent(null);
}

// "Code requested at 14:05": when the last code was asked for, so a person waiting for mail
// knows which one is the newest. Locally no mail is sent, so there is nothing to wait for.
function noteSent(when) {
  const note = $("reset-sent");
  note.hidden = !when || config.local;
  if (!note.hidden) note.textContent = `Code requested at ${clockTime(when)}. If an account uses this email, it is on its way.`;
}

async function requestCode(email) {
  try {
    await cognito.forgotPassword(email);
  } catch (error) {
    if (!AS_IF_SENT.has(error.type)) throw error;
  }
  const when = new Date();
  noteSent(when);
  return when;
}

onSubmit("forgot-form", () => {
  const email = $("forgot-email").value.trim();
  return async () => {
    const when = await requestCode(email);
    $("reset-email").value = email;
    $("reset-code").value = "";
    go("#/reset");
    say(
      config.local
        ? "Running locally: no email is sent. Enter any code and a new password."
        : `If an account uses ${email}, we emailed it a code at ${clockTime(when)}. Enter the code and a new password.`,
    );
  };
});

onSubmit("reset-form", (form) => {
  const email = $("reset-email").value.trim();
  const code = $("reset-code").value.trim();
  const chosen = $("reset-password").value;
  if (!password.check($("reset-password"), $("reset-password-again"))) return null;
  return async () => {
    try {
      await cognito.confirmForgotPassword(email, code, chosen);
    } catch (error) {
      throw AS_WRONG_CODE.has(error.type) ? new Error(WRONG_CODE) : error;
    }
    form.reset();
    noteSent(null);
    try {
      await session.signIn(email, chosen);
      go("#/");
      say(`Your password is changed. Signed in as ${session.email()}.`);
    } catch {
      $("signin-email").value = email;
      go("#/signin");
      say("Your password is changed. Sign in with the new password.");
      $("signin-password").focus();
    }
  };
});

onResend("reset-resend", "reset-email", "reset-code", async (email) => {
  const when = await requestCode(email);
  return config.local
    ? "Running locally: no email is sent. Enter any code."
    : `We asked for a new code at ${clockTime(when)}. Use the newest code; earlier ones no longer work.`;
});
