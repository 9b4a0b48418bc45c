// `mount(router)`: a route file hands its subtree to an itty-router router or
// a Hono app. Both are `fetch(request, env, ctx)`; kiln passes its own context
// as that third argument (it has waitUntil and passThroughOnException, so it
// is an ExecutionContext to them), which keeps params, session, render and
// next reachable from inside. Only apps that import mount ship this module.
import { errorResponse, isDebug } from "./errors.js";
import { parsePattern } from "./routing.js";
import type { AppEnv, EventContext, Handler } from "./types.js";

/** What mount needs of a router: itty-router's `router.fetch` and Hono's `app.fetch` both are this. */
export interface Mountable {
  fetch(request: Request, env: any, context: any): unknown;
}

/**
 * The handler for `export const onRequest = mount(router)`. The router sees the
 * request with the path below the route file (`/users/7` for `/api/users/7` in
 * functions/api/[[path]].ts), and kiln's context as its third argument. A router
 * that answers nothing (itty-router's Router) passes the request on to `next()`;
 * an error with a `status` (StatusError, HTTPException) answers with that status.
 */
export function mount(router: Mountable): Handler<string, any> {
  return async (context) => {
    const request = subtreeRequest(context);
    let response: unknown;
    try {
      response = await router.fetch(request, context.env, context);
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined) throw err;
      return statusErrorResponse(context, status, err);
    }
    return response === undefined ? context.next(new Request(context.request.url, request)) : (response as Response);
  };
}

/** kiln's context inside a mounted Hono app, from Hono's `c`; itty-router handlers get it as their third argument. */
export function contextOf<P extends string = string, Env = AppEnv>(c: { executionCtx: unknown }): EventContext<Env, P> {
  const context = c.executionCtx as object | null;
  // Duck-typed: an app may hold two copies of kiln (its own and the entry's), and classes differ across copies.
  if (typeof context !== "object" || context === null || !("functionPath" in context && "params" in context)) throw new TypeError("contextOf(c): this Hono app does not run under kiln's mount()");
  return context as unknown as EventContext<Env, P>;
}

/** The request with the route file's own part of the path cut off: what is left is the router's. */
function subtreeRequest(context: EventContext<any>): Request {
  const url = new URL(context.request.url);
  const depth = parsePattern(context.functionPath).filter((s) => s.kind !== "catchall").length;
  url.pathname = "/" + url.pathname.split("/").slice(depth + 1).join("/");
  return new Request(url, context.request);
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

const REASONS: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
  410: "Gone", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

/**
 * A 4xx's message was written for the client, as itty-router and Hono show it;
 * a 5xx is a failure, logged and shown as kiln shows a 500 (details with DEBUG only).
 */
function statusErrorResponse(context: EventContext<any>, status: number, err: unknown): Response {
  const reason = REASONS[status] ?? `Error ${status}`;
  if (status < 500) return errorResponse(context.request, status, (err as Error).message || reason);
  console.error(err);
  return errorResponse(context.request, status, reason, isDebug(context.env) ? err : undefined);
}
