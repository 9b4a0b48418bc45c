// Responses the framework makes itself. They show no message or stack unless
// the app turned DEBUG on, and are never cached. Their one header is built
// once: filling a Headers from an object costs workerd more than the rest of
// a 404 together (measured with bench/). The Content-Type comes from the
// body: text/plain for a string, application/json from Response.json.

import type { ChainRun } from "./context.js";

export const NO_STORE = new Headers({ "cache-control": "no-store" });

/** The app turned debugging on (`DEBUG = "true"` in its vars): errors show their message and stack. */
export function isDebug(env: Record<string, unknown> | undefined): boolean {
  return env?.DEBUG === true || env?.DEBUG === "true";
}

export function wantsJson(accept: string | null): boolean {
  return accept !== null && accept.includes("json") && !accept.includes("text/html");
}

/**
 * A page load, not a script's fetch or an image: Sec-Fetch-Mode says so in
 * browsers; without it (curl), any client that does not ask for JSON. It
 * decides who gets a page (the single-page app's shell, the login redirect)
 * and who gets an API answer.
 */
export function isPageLoad(request: Request, accept: string | null): boolean {
  const mode = request.headers.get("sec-fetch-mode");
  return mode === null ? !wantsJson(accept) : mode === "navigate";
}

/** The plain 404, the commonest answer of all: Accept is passed in, as the caller has read it already. */
export function notFoundResponse(request: Request, accept: string | null, method = request.method): Response {
  if (wantsJson(accept)) return errorResponse(request, 404, "Not Found");
  return new Response(method === "HEAD" ? null : "Not Found\n", { status: 404, headers: NO_STORE });
}

export function errorResponse(
  request: Request,
  status: number,
  message: string,
  error?: unknown,
  extraHeaders?: Record<string, string>,
): Response {
  const detail = error instanceof Error ? (error.stack ?? String(error)) : error === undefined ? undefined : String(error);
  const init = { status, headers: NO_STORE };
  const response =
    request.method === "HEAD"
      ? new Response(null, init)
      : wantsJson(request.headers.get("accept"))
        ? Response.json(detail === undefined ? { error: message, status } : { error: message, status, detail }, init)
        : new Response(detail === undefined ? `${message}\n` : `${message}\n\n${detail}\n`, init);
  if (extraHeaders) for (const name in extraHeaders) response.headers.set(name, extraHeaders[name]);
  return response;
}

/**
 * An error that carries the framework's answer to it (unavailable.ts, input.ts): a handler need
 * not catch it, and the core ships no code for a kind of error the app never throws. `run` gives
 * the answer the app's parts (its error pages).
 */
export interface AnsweredError {
  kilnAnswer(request: Request, run: ChainRun): Response | Promise<Response>;
}
