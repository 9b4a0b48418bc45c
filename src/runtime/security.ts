// Security headers for apps that make HTML: the entry passes this in only
// when the build saw templates/, `html`, htmlResponse or a text/html in
// functions/ (or a `headers`/`csp` declaration), so an API-only app ships
// and runs none of it. A header the response already has is kept: a route
// that sets its own (or public/_headers, for a static file) wins.
import { mutable } from "./context.js";
import type { Declarations } from "./declarations.js";
import { entryName, type RouteEntry } from "./router.js";

/** Strict by default: no inline script or style unless it carries the request's nonce. */
export const DEFAULT_CSP: Readonly<Record<string, string>> = {
  "default-src": "'self'",
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self' data:",
  "object-src": "'none'",
  "base-uri": "'self'",
  "form-action": "'self'",
  "frame-ancestors": "'none'",
};

/** On every response of a route, HTML or not. */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
};

/** On HTML only: the frame policy (X-Frame-Options for browsers that predate frame-ancestors). */
export const HTML_HEADERS: Readonly<Record<string, string>> = { "x-frame-options": "DENY" };

/** The directives a nonce joins: the inline scripts and styles a template trusts. */
const NONCE_DIRECTIVES = ["script-src", "style-src"];

export type HeadersDeclaration = Record<string, string | false>;
export type CspDeclaration = false | Record<string, string | string[] | false>;

interface Policy {
  all: [string, string][];
  html: [string, string][];
  /** The CSP's directives, nonce-less; undefined when the route turned CSP off. */
  csp: [string, string][] | undefined;
  /** The CSP header without a nonce, made on first use: most pages ask for none. */
  plain?: string;
}

export interface SecuritySupport {
  /** At start-up: a `headers` or `csp` value of the wrong shape stops the Worker with the route's name. */
  validate(entries: RouteEntry[]): void;
  /**
   * Adds the headers the response lacks; `nonce` joins the CSP when a template or handler asked for one.
   * The CSP is a route's policy: a page no route answered (a single-page app's index.html, the 404
   * page) gets the other headers, and its CSP from public/_headers, as when the assets serve it directly.
   */
  apply(response: Response, declared: Declarations, nonce: string | undefined, routed: boolean): Response;
}

function checkHeaders(where: string, value: unknown): void {
  if (value === undefined) return;
  const ok = typeof value === "object" && value !== null && Object.values(value).every((v) => typeof v === "string" || v === false);
  if (!ok) throw new TypeError(`${where}: headers must be an object of header names to strings (or false to drop a default)`);
}

function checkCsp(where: string, value: unknown): void {
  if (value === undefined || value === false) return;
  const ok =
    typeof value === "object" && value !== null &&
    Object.values(value).every((v) => typeof v === "string" || v === false || (Array.isArray(v) && v.every((s) => typeof s === "string")));
  if (!ok) throw new TypeError(`${where}: csp must be false or an object of directives to sources (a string, an array, or false to drop one)`);
}

/** The declarations in force, read once per chain: defaults, then the folder's and file's changes. */
function compile(declared: Declarations): Policy {
  const own = (declared.headers ?? {}) as HeadersDeclaration;
  const pick = (defaults: Readonly<Record<string, string>>): [string, string][] =>
    Object.entries(defaults).filter(([name]) => !Object.keys(own).some((k) => k.toLowerCase() === name));
  const all = pick(DEFAULT_HEADERS);
  for (const [name, value] of Object.entries(own)) if (value !== false) all.push([name.toLowerCase(), value]);
  const cspDeclared = declared.csp as CspDeclaration | undefined;
  let csp: [string, string][] | undefined;
  if (cspDeclared !== false && !Object.keys(own).some((k) => k.toLowerCase() === "content-security-policy")) {
    const directives: Record<string, string | false> = { ...DEFAULT_CSP };
    for (const [name, value] of Object.entries(cspDeclared ?? {})) directives[name] = Array.isArray(value) ? value.join(" ") : value;
    csp = Object.entries(directives).filter((d): d is [string, string] => d[1] !== false);
  }
  return { all, html: pick(HTML_HEADERS), csp };
}

function cspValue(directives: [string, string][], nonce: string | undefined): string {
  return directives
    .map(([name, value]) => (nonce && NONCE_DIRECTIVES.includes(name) && value !== "'none'" ? `${name} ${value} 'nonce-${nonce}'` : `${name} ${value}`))
    .join("; ");
}

function setMissing(headers: Headers, pairs: [string, string][]): void {
  for (const [name, value] of pairs) if (!headers.has(name)) headers.set(name, value);
}

export function securityHeaders(): SecuritySupport {
  const policies = new WeakMap<Declarations, Policy>();
  return {
    validate(entries) {
      for (const e of entries) {
        const where = entryName(e);
        checkHeaders(where, e.declares?.headers);
        checkCsp(where, e.declares?.csp);
      }
    },
    apply(response, declared, nonce, routed) {
      let policy = policies.get(declared);
      if (!policy) policies.set(declared, (policy = compile(declared)));
      if (response.status === 101) return response;
      const out = mutable(response);
      const headers = out.headers;
      setMissing(headers, policy.all);
      if (!headers.get("content-type")?.startsWith("text/html")) return out;
      setMissing(headers, policy.html);
      if (routed && policy.csp && !headers.has("content-security-policy")) {
        headers.set("content-security-policy", nonce ? cspValue(policy.csp, nonce) : (policy.plain ??= cspValue(policy.csp, undefined)));
      }
      return out;
    },
  };
}
