// Cognito's JSON API called directly with fetch, so the same code runs against AWS and the
// local emulator: no SDK, no third-party origin, nothing for the CSP to allow but the endpoint.

import * as password from "./password.js";
import { config } from "./settings.js";

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

// Friendly words for the errors a person can act on; anything else shows Cognito's own message.
const FRIENDLY = {
  UsernameExistsException: "An account with this email already exists. Sign in, or confirm it if you have not yet.",
  NotAuthorizedException: "Incorrect email or password.",
  UserNotFoundException: "Incorrect email or password.",
  UserNotConfirmedException: "This account is not confirmed yet. Enter the confirmation code we sent to your email.",
  // The pool's rules from config.js, not the service's wording (the emulator's differs from AWS's).
  InvalidPasswordException: password.refusal,
  CodeMismatchException: "That code is not correct. Check the email address and the code, or choose “Send a new code”.",
  ExpiredCodeException: "That code has expired. Choose “Send a new code” and use the newest code.",
  LimitExceededException: "Too many attempts. Wait a moment and try again.",
  TooManyRequestsException: "Too many requests. Wait a moment and try again.",
  TooManyFailedAttemptsException: "Too many failed attempts. Wait a moment and try again.",
  PasswordResetRequiredException: "This account needs a password reset before you can sign in.",
};

export class CognitoError extends Error {
  constructor(type, message, status) {
    super(message);
    this.name = "CognitoError";
    this.type = type;
    this.status = status;
  }
}

async function call(action, body) {
  let response;
  try {
    response = await fetch(config.cognitoEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": TARGET_PREFIX + action,
      },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new CognitoError("NetworkError", "Cannot reach the sign-in service. Check your connection and try again.", 0);
  }
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {};
  }
  if (!response.ok) {
    // __type may be "ExceptionName" or "namespace#ExceptionName".
    const type = String(data.__type || data.code || "UnknownError").split("#").pop();
    const own = data.message || data.Message || `The sign-in service answered ${response.status}.`;
    const friendly = typeof FRIENDLY[type] === "function" ? FRIENDLY[type]() : FRIENDLY[type];
    throw new CognitoError(type, friendly || own, response.status);
  }
  return data;
}

export function signUp(email, password) {
  return call("SignUp", {
    ClientId: config.userPoolClientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
}

export function confirmSignUp(email, code) {
  return call("ConfirmSignUp", {
    ClientId: config.userPoolClientId,
    Username: email,
    ConfirmationCode: code,
  });
}

export function resendCode(email) {
  return call("ResendConfirmationCode", { ClientId: config.userPoolClientId, Username: email });
}

// Emails a code for a new password. With user-existence errors prevented (the app client's
// PreventUserExistenceErrors), Cognito answers an unknown address as if it had sent one.
export function forgotPassword(email) {
  return call("ForgotPassword", { ClientId: config.userPoolClientId, Username: email });
}

export function confirmForgotPassword(email, code, newPassword) {
  return call("ConfirmForgotPassword", {
    ClientId: config.userPoolClientId,
    Username: email,
    ConfirmationCode: code,
    Password: newPassword,
  });
}

export async function passwordAuth(email, password) {
  const data = await call("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.userPoolClientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!data.AuthenticationResult) {
    // MFA or a forced password change: this site does not offer those screens.
    throw new CognitoError(
      data.ChallengeName || "Challenge",
      `This account needs an extra sign-in step (${data.ChallengeName || "challenge"}) that this site does not support.`,
      200,
    );
  }
  return data.AuthenticationResult;
}

export async function refreshAuth(refreshToken) {
  const data = await call("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: config.userPoolClientId,
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  });
  if (!data.AuthenticationResult) throw new CognitoError("Challenge", "Your session could not be renewed.", 200);
  return data.AuthenticationResult;
}

export function globalSignOut(accessToken) {
  return call("GlobalSignOut", { AccessToken: accessToken });
}
