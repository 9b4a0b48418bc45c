// HTTP caching for routes that export `cache`: their Cache-Control, an ETag,
// conditional requests (RFC 9110 §13), and the edge cache (Workers Cache API).
// It is a step of the route's own chain, after the middleware; the entry
// imports this module only for apps that have such a route.
import { base64url } from "./base64url.js";
import { Context } from "./context.js";
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

const directives = (header: string | null) => (header ?? "").toLowerCase();

/** ETags of an If-None-Match or If-Match header; `*` stays `*`. ETags may hold commas, so they are matched, not split. */
function etagsOf(header: string): string[] {
  if (header.trim() === "*") return ["*"];
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/** RFC 9110 §8.8.3.2: weak comparison for If-None-Match. */
function noneMatch(header: string, etag: string | null): boolean {
  const tags = etagsOf(header);
  if (tags[0] === "*") return true;
  return etag !== null && tags.some((t) => opaque(t) === opaque(etag));
}

/** Strong comparison for If-Match: both strong and the same. */
function strongMatch(header: string, etag: string | null): boolean {
  const tags = etagsOf(header);
  if (tags[0] === "*") return true;
  return etag !== null && !etag.startsWith("W/") && tags.some((t) => t === etag);
}

function date(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const KEPT_ON_304 = ["cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified", "x-kiln-cache"];

/** A 200 to a GET or HEAD, answered 304 when the client's copy is current. */
export function conditional(request: Request, response: Response): Response {
  if (response.status !== 200) return response;
  const inm = request.headers.get("if-none-match");
  let fresh = false;
  if (inm !== null) {
    fresh = noneMatch(inm, response.headers.get("etag"));
  } else {
    const since = date(request.headers.get("if-modified-since"));
    const modified = date(response.headers.get("last-modified"));
    fresh = since !== undefined && modified !== undefined && modified <= since;
  }
  if (!fresh) return response;
  response.body?.cancel().catch(() => {});
  const headers = new Headers();
  for (const name of KEPT_ON_304) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(null, { status: 304, headers });
}

const TICK = Symbol("tick");
const LIMIT = 1 << 20;
type Read = ReadableStreamReadResult<Uint8Array>;

/**
 * The body's bytes when it is already in memory (a string, a buffer), or
 * undefined, with a response that streams as before. A body that waits on
 * I/O is never held back to be hashed: a read that does not complete before
 * the next turn of the event loop ends the attempt. Byte streams are read
 * into one growing buffer (a BYOB reader: a 10 KB page is one read, where the
 * default reader gives 4 KB chunks and costs twice the time).
 */
async function bytesInMemory(response: Response): Promise<{ bytes?: Uint8Array<ArrayBuffer>; response: Response }> {
  const body = response.body;
  if (!body) return { bytes: new Uint8Array(0), response };
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // not a byte stream: read it chunk by chunk
  }
  const reader = byob ?? body.getReader();
  const read = (view: Uint8Array<ArrayBuffer>): Promise<Read> => (byob ? byob.read(view) : (reader as ReadableStreamDefaultReader<Uint8Array>).read());
  const tick = new Promise<typeof TICK>((resolve) => setTimeout(() => resolve(TICK), 0));
  let buffer = new Uint8Array(16384);
  let size = 0;
  // Gives the client what was read, then the rest as it comes.
  const passOn = (pending?: Promise<Read>) => {
    const head = buffer.slice(0, size);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (size) controller.enqueue(head);
      },
      async pull(controller) {
        const next = pending ?? read(new Uint8Array(16384));
        pending = undefined;
        const { done, value } = await next;
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return { response: new Response(stream, response) };
  };
  for (;;) {
    if (size > LIMIT) return passOn();
    if (size === buffer.byteLength) {
      const bigger = new Uint8Array(buffer.byteLength * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const pending = read(buffer.subarray(size));
    const next = await Promise.race([pending, tick]);
    if (next === TICK) return passOn(pending);
    // A BYOB read hands the buffer back (the one passed in is detached), the last one too.
    if (byob && next.value) buffer = new Uint8Array(next.value.buffer as ArrayBuffer);
    if (next.done) break;
    const chunk = next.value;
    if (!byob) {
      while (size + chunk.byteLength > buffer.byteLength) {
        const bigger = new Uint8Array(buffer.byteLength * 2);
        bigger.set(buffer.subarray(0, size));
        buffer = bigger;
      }
      buffer.set(chunk, size);
    }
    size += chunk.byteLength;
  }
  const bytes = buffer.slice(0, size);
  return { bytes, response: new Response(bytes, response) };
}

/** A strong ETag from the SHA-256 of the body. */
async function etagOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${base64url(digest.subarray(0, 18))}"`;
}

/** Authorization or a session cookie: the answer may be this user's own, so the edge cache is not for it. */
function personal(request: Request): boolean {
  return request.headers.has("authorization") || (request.headers.get("cookie") ?? "").includes("kiln_session=");
}

/** The Cache API never stores these, and neither does kiln. */
function storable(response: Response): boolean {
  const cc = directives(response.headers.get("cache-control"));
  return (
    response.status === 200 &&
    !response.headers.has("set-cookie") &&
    !/(^|[\s,])(private|no-store)([\s,=]|$)/.test(cc) &&
    !(response.headers.get("vary") ?? "").split(",").some((v) => v.trim() === "*")
  );
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
async function current(context: EventContext, get: Handler): Promise<Response> {
  const request = new Request(context.request.url, { method: "GET", headers: context.request.headers });
  const response = await get({
    request,
    env: context.env,
    params: context.params,
    data: context.data,
    functionPath: context.functionPath,
    next: () => Promise.resolve(new Response(null, { status: 404 })),
    waitUntil: (p) => context.waitUntil(p),
    passThroughOnException: () => context.passThroughOnException(),
    get session() {
      return context.session;
    },
  } as EventContext);
  if (response.status !== 200 || response.headers.has("etag")) return response;
  const { bytes, response: out } = await bytesInMemory(response);
  if (bytes) out.headers.set("etag", await etagOf(bytes));
  return out;
}

function preconditionFailed(request: Request, response: Response): boolean {
  const ifMatch = request.headers.get("if-match");
  if (ifMatch !== null) return response.status !== 200 || !strongMatch(ifMatch, response.headers.get("etag"));
  const since = date(request.headers.get("if-unmodified-since"));
  const modified = date(response.headers.get("last-modified"));
  return since !== undefined && modified !== undefined && modified > since;
}

/**
 * The step kiln puts before a route's handlers when the file exports `cache`.
 * `get` is the file's GET handler, used to check If-Match on unsafe methods.
 */
export function cacheRoute(policy: CacheExport, file: string, get?: Handler): Handler {
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
          return new Response("Precondition Failed\n", { status: 412, headers: { "cache-control": "no-store" } });
        }
      }
      return context.next();
    }
    const useEdge = edge && !personal(request);
    if (useEdge) {
      const hit = await caches.default.match(cacheKey(request.url));
      if (hit) {
        const out = new Response(hit.body, hit);
        out.headers.set("x-kiln-cache", "HIT");
        return conditional(request, out);
      }
    }
    let response = await context.next();
    // A response that used the session is this visitor's own: the session makes it private, no-store.
    if (response.status !== 200 || Context.usedSession(context)) return response;
    response = new Response(response.body, response); // its headers may be read-only
    if (!response.headers.has("cache-control")) response.headers.set("cache-control", header);
    if (!response.headers.has("etag") && !/no-store/.test(directives(response.headers.get("cache-control")))) {
      const read = await bytesInMemory(response);
      response = read.response;
      if (read.bytes) response.headers.set("etag", await etagOf(read.bytes));
    }
    if (useEdge) {
      if (method === "GET" && storable(response)) {
        context.waitUntil(caches.default.put(cacheKey(request.url), response.clone()));
      }
      response.headers.set("x-kiln-cache", "MISS");
    }
    return conditional(request, response);
  };
}
