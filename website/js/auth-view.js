// The signed-out views: sign in, create an account, confirm it.

import * as cognito from "./cognito.js";
import { go } from "./nav.js";
import * as password from "./password.js";
import * as session from "./session.js";
import { config } from "./settings.js";
import { $, clockTime, onResend, onSubmit, say } from "./ui.js";

// Kept only between sign-up and confirmation, so a confirmed account can sign straight in.
let pending = null; // { email, password }

password.annotate($("signup-password-hint"));

export function show(view) {
  if (view === "confirm") prepareConfirm();
}

export function reset() {
  pending = null;
  noteSent(null);
}

function prepareConfirm() {
  $("confirm-local").hidden = !config.local;
  $("resend-code").hidden = config.local; // the emulator sends no mail and accepts any code
  if (pending && !$("confirm-email").value) $("confirm-email").value = pending.email;
}

// "Code sent to a***@e*** at 14:05": when the last code went out, so a person waiting for mail
// knows which one is the newest. Cognito names the destination masked.
function noteSent(result) {
  const note = $("confirm-sent");
  note.hidden = !result || config.local;
  if (note.hidden) return;
  const where = result.CodeDeliveryDetails?.Destination;
  note.textContent = `Code sent${where ? ` to ${where}` : ""} at ${clockTime()}.`;
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
  const chosen = $("signup-password").value;
  if (!password.check($("signup-password"), $("signup-password-again"))) return null;
  return async () => {
    const result = await cognito.signUp(email, chosen);
    form.reset();
    pending = { email, password: chosen };
    if (result.UserConfirmed) {
      await finishConfirmation();
      return;
    }
    $("confirm-email").value = email;
    $("confirm-code").value = "";
    go("#/confirm");
    noteSent(result);
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

onResend("resend-code", "confirm-email", "confirm-code", async (email) => {
  noteSent(await cognito.resendCode(email));
  return `We sent a new code at ${clockTime()}. Use the newest code; earlier ones no longer work.`;
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
