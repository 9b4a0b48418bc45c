// `export const cors`: the origins (other sites' pages) whose scripts may
// read a route's answers. The entry passes this in only when a file declares
// it. kiln answers the preflight itself, before the cross-site check, the
// access rule and any middleware: a preflight carries no cookie, so a guard
// would refuse it and the browser would never send the real request.
import { mutable } from "./context.js";
import type { Declarations } from "./declarations.js";
import { errorResponse } from "./errors.js";
import { entryName, type RouteEntry } from "./router.js";

export interface CorsPolicy {
  /** Origins allowed, exactly as the browser sends them (`https://app.example`); `"*"` for any, never with credentials. */
  origin: string[] | "*";
  /** Methods a preflight may ask for. Default: the route's own. */
  methods?: string[];
  /** Request headers a preflight may ask for. Default: Content-Type. */
  headers?: string[];
  /** Response headers the page's script may read beyond the safelisted ones. */
  exposeHeaders?: string[];
  /** Cookies and HTTP auth come along (Access-Control-Allow-Credentials). */
  credentials?: boolean;
  /** Seconds a browser may keep the preflight's answer. Default: 600. */
  maxAge?: number;
}

export interface CorsSupport {
  validate(entries: RouteEntry[]): void;
  /** The answer to a preflight (OPTIONS with Access-Control-Request-Method) on a route that declares cors. */
  preflight(request: Request, declared: Declarations, allow: string): Response;
  /** An allowed origin: the app asked for its requests, so the cross-site check lets them through. */
  allows(request: Request, declared: Declarations): boolean;
  /** The CORS headers of the real request's answer, and Vary: Origin whatever the origin. */
  apply(request: Request, response: Response, declared: Declarations): Response;
}

const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");

function check(where: string, value: unknown): void {
  if (value === undefined) return;
  const c = value as Partial<CorsPolicy>;
  const problem =
    typeof value !== "object" || value === null ? "must be an object such as { origin: [\"https://app.example\"] }"
    : !(c.origin === "*" || strings(c.origin)) ? "origin must be an array of origins, or \"*\""
    : c.origin === "*" && c.credentials ? "origin \"*\" cannot go with credentials: name the origins"
    : (c.methods !== undefined && !strings(c.methods)) || (c.headers !== undefined && !strings(c.headers)) || (c.exposeHeaders !== undefined && !strings(c.exposeHeaders)) ? "methods, headers and exposeHeaders must be arrays of strings"
    : c.credentials !== undefined && typeof c.credentials !== "boolean" ? "credentials must be true or false"
    : c.maxAge !== undefined && !(Number.isSafeInteger(c.maxAge) && c.maxAge >= 0) ? "maxAge must be a whole number of seconds"
    : undefined;
  if (problem) throw new TypeError(`${where}: cors ${problem}`);
}

/** The origin to name in Access-Control-Allow-Origin, or undefined for one that is not allowed. */
function allowedOrigin(policy: CorsPolicy, origin: string | null): string | undefined {
  if (origin === null) return undefined;
  if (policy.origin === "*") return "*";
  // An exact match only: a prefix or suffix test would let https://app.example.evil.test in.
  return policy.origin.includes(origin) ? origin : undefined;
}

function addVary(headers: Headers): void {
  const vary = headers.get("vary");
  if (!vary) headers.set("vary", "Origin");
  else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(vary)) headers.set("vary", `${vary}, Origin`);
}


function refuse(request: Request, why: string): Response {
  return errorResponse(request, 403, `Forbidden: ${why}`, undefined, { vary: "Origin" });
}

export function cors(): CorsSupport {
  return {
    validate(entries) {
      for (const e of entries) check(entryName(e), e.declares?.cors);
    },
    preflight(request, declared, allow) {
      const policy = declared.cors as CorsPolicy;
      const origin = allowedOrigin(policy, request.headers.get("origin"));
      if (!origin) return refuse(request, "origin not allowed (CORS)");
      const method = request.headers.get("access-control-request-method")!.toUpperCase();
      const methods = policy.methods?.map((m) => m.toUpperCase()) ?? allow.split(", ");
      if (!methods.includes(method)) return refuse(request, `method ${method} not allowed (CORS)`);
      const allowedHeaders = (policy.headers ?? ["content-type"]).map((h) => h.toLowerCase());
      const asked = (request.headers.get("access-control-request-headers") ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
      const extra = asked.find((h) => !allowedHeaders.includes(h));
      if (extra) return refuse(request, `header ${extra} not allowed (CORS)`);
      const headers = new Headers({
        "access-control-allow-origin": origin,
        "access-control-allow-methods": methods.join(", "),
        "access-control-max-age": String(policy.maxAge ?? 600),
        "cache-control": "no-store",
        vary: "Origin",
      });
      if (asked.length) headers.set("access-control-allow-headers", asked.join(", "));
      if (policy.credentials) headers.set("access-control-allow-credentials", "true");
      return new Response(null, { status: 204, headers });
    },
    allows(request, declared) {
      const origin = request.headers.get("origin");
      return declared.cors !== undefined && origin !== null && origin !== "*" && allowedOrigin(declared.cors as CorsPolicy, origin) === origin;
    },
    apply(request, response, declared) {
      const policy = declared.cors as CorsPolicy;
      // A preflight's answer is preflight() own, allowed or refused.
      if (response.status === 101 || (request.method === "OPTIONS" && request.headers.has("access-control-request-method"))) return response;
      const out = mutable(response);
      const headers = out.headers;
      addVary(headers);
      const origin = allowedOrigin(policy, request.headers.get("origin"));
      if (!origin) {
        // Whatever the handler (or a cached copy) carried, this origin is not one the declaration names.
        headers.delete("access-control-allow-origin");
        headers.delete("access-control-allow-credentials");
        return out;
      }
      headers.set("access-control-allow-origin", origin);
      if (policy.credentials) headers.set("access-control-allow-credentials", "true");
      if (policy.exposeHeaders?.length) headers.set("access-control-expose-headers", policy.exposeHeaders.join(", "));
      return out;
    },
  };
}
