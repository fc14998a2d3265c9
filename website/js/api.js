// The to-do API: JSON over fetch with the id token as a bearer token. A 401, or a request the
// browser reports as failed (a 401 without CORS headers looks like that), renews the tokens and
// retries once; errors carry the API's {"error": {"code", "message"}}.

import * as model from "./model.js";
import { config } from "./settings.js";
import * as session from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const FALLBACK = {
  400: "The request was not accepted.",
  401: "Your session has ended. Sign in again to continue where you left off.",
  403: "You are not allowed to do that.",
  404: "Not found. It may have been deleted, or it is not yours.",
  409: "That conflicts with a change made elsewhere. Reload and try again.",
  413: "That is too large.",
  429: "Too many requests. Wait a moment and try again.",
  503: "The service is busy. Try again in a moment.",
};

async function send(method, path, body, token) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(config.apiUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "NetworkError", "Cannot reach the server. Check your connection and try again.");
  }
}

async function parse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Renews the tokens once and sends the request again. Cognito refusing the renewal (a revoked or
// expired refresh token) ends the session; not reaching Cognito either leaves the session alone,
// and `unreachable` (the first failure) is what the person sees.
async function renewAndResend(method, path, body, unreachable) {
  try {
    await session.refresh();
  } catch (error) {
    // A sign-out while renewing has ended the session already, with its own message.
    if (error instanceof session.SessionEnded) throw new ApiError(401, "Unauthorized", FALLBACK[401]);
    if (unreachable && error.type === "NetworkError") throw unreachable;
    session.expire();
    throw new ApiError(401, "Unauthorized", FALLBACK[401]);
  }
  return send(method, path, body, await session.idToken());
}

export async function request(method, path, body) {
  let response;
  let renewed = false;
  try {
    response = await send(method, path, body, await session.idToken());
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "NetworkError") throw error;
    // API Gateway's JWT authorizer may answer 401 without CORS headers; the browser then shows
    // the page a network error, not the 401 (docs/website.md). So a failed request is renewed
    // and sent once more, as a 401 is.
    response = await renewAndResend(method, path, body, error);
    renewed = true;
  }
  if (response.status === 401 && !renewed) {
    response = await renewAndResend(method, path, body, null);
  }
  if (response.status === 401) {
    session.expire();
    throw new ApiError(401, "Unauthorized", FALLBACK[401]);
  }
  const data = await parse(response);
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error || {} : {};
    const message = error.message || FALLBACK[response.status] || `The server answered ${response.status}.`;
    throw new ApiError(response.status, error.code || String(response.status), message);
  }
  return data;
}

const enc = encodeURIComponent;

export function listTodos({ search = "", cursor = "", limit = 20 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (search) query.set("search", search);
  if (cursor) query.set("cursor", cursor);
  return request("GET", `/todos?${query}`);
}

export const createTodo = (fields) => request("POST", "/todos", fields);
export const getTodo = (id) => request("GET", `/todos/${enc(id)}`);
export const updateTodo = (id, fields) => request("PATCH", `/todos/${enc(id)}`, fields);
export const deleteTodo = (id) => request("DELETE", `/todos/${enc(id)}`);
// All of a todo's files: the API pages them (100 at a time), so follow the cursor.
export async function listFiles(id) {
  const items = [];
  let cursor = "";
  for (let round = 0; round < 20; round += 1) {
    const query = cursor ? `?cursor=${enc(cursor)}` : "";
    const found = model.page(await request("GET", `/todos/${enc(id)}/files${query}`));
    items.push(...found.items);
    cursor = found.cursor;
    if (!cursor) break;
  }
  return items;
}
export const registerFile = (id, fields) => request("POST", `/todos/${enc(id)}/files`, fields);
export const deleteFile = (id, fileId) => request("DELETE", `/todos/${enc(id)}/files/${enc(fileId)}`);

// Sends the file to S3 with the presigned POST: the policy's form fields first, the file last
// (S3 ignores fields after the file). XMLHttpRequest because fetch has no upload progress.
export function uploadToS3(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
        return;
      }
      const xml = xhr.responseText || "";
      const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] || String(xhr.status);
      const text = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
      const message =
        code === "EntityTooLarge"
          ? "The file is larger than the size that was registered or allowed."
          : text || `The upload failed (${xhr.status}).`;
      reject(new ApiError(xhr.status, code, message));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, "NetworkError", "The upload could not reach file storage. Check your connection and try again.")),
    );
    xhr.addEventListener("abort", () => reject(new ApiError(0, "Aborted", "The upload was cancelled.")));
    xhr.send(form);
  });
}

// Fetches a presigned download into a blob so the browser saves it under its own name
// (a cross-origin link's download attribute is ignored).
export async function downloadBlob(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(0, "NetworkError", "The download could not reach file storage. Try again.");
  }
  if (!response.ok) {
    throw new ApiError(response.status, "DownloadFailed", response.status === 403
      ? "The download link has expired. Reload the attachments and try again."
      : `The download failed (${response.status}).`);
  }
  return response.blob();
}
