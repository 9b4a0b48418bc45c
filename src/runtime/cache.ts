// HTTP caching for routes that export `cache`: their Cache-Control, If-Match
// on unsafe methods (RFC 9110 §13), and the edge cache (Workers Cache API).
// It is a step of the route's own chain, after the middleware; the entry
// imports this module only for apps that have such a route. ETags and 304s
// are etag.ts's, applied by the fetch handler to every response.
import { hasSessionCookie } from "./session-cookie.js";
import { Context, mutable } from "./context.js";
import { errorResponse } from "./errors.js";
import { etagsOf, httpDate, tagged } from "./etag.js";
import type { EventContext, Handler } from "./types.js";

export interface CachePolicy {
  /** max-age, in seconds: how long a browser may reuse the response. */
  maxAge?: number;
  /** s-maxage, in seconds: the same for shared caches (and kiln's edge cache). */
  sMaxAge?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  public?: boolean;
  /** For one user only: browsers may keep it, shared caches and the edge cache may not. */
  private?: boolean;
  noStore?: boolean;
  /** Stored, but revalidated (with the ETag) before every reuse. */
  noCache?: boolean;
  mustRevalidate?: boolean;
  proxyRevalidate?: boolean;
  immutable?: boolean;
  /** Keep responses in the Workers Cache API of the data centre (caches.default) and answer from it. */
  edge?: boolean;
}

/** What a route file exports as `cache`: a policy, or a Cache-Control string as it is. */
export type CacheExport = CachePolicy | string;

const SECONDS: [keyof CachePolicy, string][] = [
  ["maxAge", "max-age"],
  ["sMaxAge", "s-maxage"],
  ["staleWhileRevalidate", "stale-while-revalidate"],
  ["staleIfError", "stale-if-error"],
];
const FLAGS: [keyof CachePolicy, string][] = [
  ["public", "public"],
  ["private", "private"],
  ["noStore", "no-store"],
  ["noCache", "no-cache"],
  ["mustRevalidate", "must-revalidate"],
  ["proxyRevalidate", "proxy-revalidate"],
  ["immutable", "immutable"],
];
const KNOWN = new Set<string>(["edge", ...SECONDS.map(([k]) => k), ...FLAGS.map(([k]) => k)]);

/** The Cache-Control header of a policy; a mistake in it is an error that names the file. */
export function cacheControl(policy: CacheExport, file: string): string {
  if (typeof policy === "string") {
    if (!policy.trim() || /[\r\n]/.test(policy)) throw new TypeError(`functions/${file}: cache is not a valid Cache-Control value`);
    return policy.trim();
  }
  if (!policy || typeof policy !== "object") throw new TypeError(`functions/${file}: cache must be a Cache-Control string or an object`);
  for (const key of Object.keys(policy)) {
    if (!KNOWN.has(key)) throw new TypeError(`functions/${file}: unknown cache option "${key}"`);
  }
  if (policy.public && policy.private) throw new TypeError(`functions/${file}: cache cannot be both public and private`);
  const parts: string[] = [];
  for (const [key, name] of FLAGS) if (policy[key] === true) parts.push(name);
  for (const [key, name] of SECONDS) {
    const value = policy[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new TypeError(`functions/${file}: cache.${key} must be a whole number of seconds`);
    }
    parts.push(`${name}=${value}`);
  }
  if (!parts.length) throw new TypeError(`functions/${file}: cache says nothing (give maxAge, noStore, ...)`);
  return parts.join(", ");
}

/** Strong comparison for If-Match: both strong and the same. */
function strongMatch(header: string, etag: string | null): boolean {
  const tags = etagsOf(header);
  if (tags[0] === "*") return true;
  return etag !== null && !etag.startsWith("W/") && tags.some((t) => t === etag);
}

/** Authorization or a session cookie: the answer may be this user's own, so the edge cache is not for it. */
function personal(request: Request): boolean {
  return request.headers.has("authorization") || hasSessionCookie(request.headers.get("cookie"));
}

/** The Cache API never stores these, and neither does kiln. */
function storable(response: Response): boolean {
  return (
    response.status === 200 &&
    !response.headers.has("set-cookie") &&
    !/(^|[\s,])(private|no-store)([\s,=]|$)/i.test(response.headers.get("cache-control") ?? "")
  );
}

/** Request headers whose values are one visitor's own: a response that varies on them is never shared. */
const UNSHARED = new Set(["*", "cookie", "authorization", "proxy-authorization"]);
/** Where a stored response keeps the request's values of its Vary headers. */
const VARIANT = "x-kiln-variant";

/**
 * The request's values of the headers a response varies on ("accept=text%2Fhtml;"),
 * or undefined when kiln cannot tell visitors apart by them. Cloudflare's cache
 * ignores Vary, so kiln compares these itself. Accept-Encoding is left out: the
 * stored body is the Worker's own, and Cloudflare encodes it for each client.
 */
function variant(request: Request, vary: string | null): string | undefined {
  if (vary === null) return "";
  let out = "";
  for (const item of vary.split(",")) {
    const name = item.trim().toLowerCase();
    if (!name || name === "accept-encoding") continue;
    if (UNSHARED.has(name)) return undefined;
    const value = request.headers.get(name);
    out += value === null ? `${name};` : `${name}=${encodeURIComponent(value)};`;
  }
  return out;
}

/** The key of a URL in the edge cache: the URL with its query string, without the fragment; GET; no headers. */
function cacheKey(url: string): Request {
  const u = new URL(url);
  u.hash = "";
  return new Request(u.toString(), { method: "GET" });
}

declare const caches: { default: Cache };

/** Removes a URL (with its query string) from this data centre's edge cache. */
export async function purge(url: string | URL): Promise<boolean> {
  return caches.default.delete(cacheKey(String(url)));
}

/** The current representation of the resource, from the route's GET handler, for If-Match / If-Unmodified-Since. */
async function current(context: EventContext, get: Handler | Handler[]): Promise<Response> {
  const request = new Request(context.request.url, { method: "GET", headers: context.request.headers });
  const handlers = Array.isArray(get) ? get : [get];
  // The route's own context (env, params, session, render, ...) with a GET request, running the GET handlers as their chain.
  const step = (i: number): Promise<Response> => {
    const handler = handlers[i];
    if (!handler) return Promise.resolve(new Response(null, { status: 404 }));
    const next = () => step(i + 1);
    const asGet = new Proxy(context, {
      get: (target, key) => (key === "request" ? request : key === "next" ? next : Reflect.get(target, key, target)),
    });
    return Promise.resolve(handler(asGet));
  };
  const response = await step(0);
  if (response.status !== 200 || response.headers.has("etag")) return response;
  return tagged(response);
}

function preconditionFailed(request: Request, response: Response): boolean {
  const ifMatch = request.headers.get("if-match");
  if (ifMatch !== null) return response.status !== 200 || !strongMatch(ifMatch, response.headers.get("etag"));
  const since = httpDate(request.headers.get("if-unmodified-since"));
  const modified = httpDate(response.headers.get("last-modified"));
  return since !== undefined && modified !== undefined && modified > since;
}

/** The stored response for this request, when there is one for its variant. */
async function fromEdge(request: Request): Promise<Response | undefined> {
  const hit = await caches.default.match(cacheKey(request.url));
  if (!hit) return undefined;
  const stored = hit.headers.get(VARIANT) ?? "";
  if (variant(request, hit.headers.get("vary")) !== stored) {
    hit.body?.cancel().catch(() => {});
    return undefined;
  }
  const out = new Response(hit.body, hit);
  out.headers.delete(VARIANT);
  out.headers.set("x-kiln-cache", "HIT");
  return out;
}

/**
 * Stores a response, with its ETag and the request's values of its Vary
 * headers, after the answer has gone out. One variant per URL: a miss for
 * another variant replaces it.
 */
async function toEdge(context: EventContext, response: Response): Promise<Response> {
  const request = context.request;
  const values = storable(response) ? variant(request, response.headers.get("vary")) : undefined;
  if (values === undefined) return response;
  if (!response.headers.has("etag")) response = await tagged(response);
  const copy = response.clone();
  if (values) copy.headers.set(VARIANT, values);
  context.waitUntil(caches.default.put(cacheKey(request.url), copy));
  return response;
}

/**
 * The step kiln puts before a route's handlers when the file exports `cache`.
 * `get` is the file's GET handler, used to check If-Match on unsafe methods.
 */
export function cacheRoute(policy: CacheExport, file: string, get?: Handler | Handler[]): Handler {
  const header = cacheControl(policy, file);
  const edge = typeof policy === "object" && policy.edge === true;
  return async (context) => {
    const { request } = context;
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      const headers = request.headers;
      if (get && (headers.has("if-match") || headers.has("if-unmodified-since"))) {
        const now = await current(context, get);
        now.body?.cancel().catch(() => {});
        if (preconditionFailed(request, now)) {
          return errorResponse(request, 412, "Precondition Failed");
        }
      }
      return context.next();
    }
    const useEdge = edge && !personal(request);
    // Only the edge cache is awaited here: an await of nothing would still cost every cached route a turn.
    if (useEdge) {
      const hit = await fromEdge(request);
      if (hit) return hit;
    }
    let response = await context.next();
    // A response that used the session is this visitor's own: the session makes it private, no-store.
    if (response.status !== 200 || Context.usedSession(context)) return response;
    const own = response.headers.has("cache-control");
    // Only read-only headers (a fetch() result's) are re-wrapped, and only to add one.
    if (!own || useEdge) response = mutable(response);
    if (!own) response.headers.set("cache-control", header);
    if (useEdge) {
      if (method === "GET") response = await toEdge(context, response);
      response.headers.set("x-kiln-cache", "MISS");
    }
    // The fetch handler adds the ETag where it is missing, and answers 304s.
    return response;
  };
}
