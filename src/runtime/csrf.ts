// Cross-site request forgery: kiln refuses, app-wide, the unsafe requests a
// page on another site can make a browser send without asking the app first.
// Those are form posts (the CORS-safelisted content types, or no body type at
// all) and anything that carries the visitor's session cookie. Other
// cross-origin requests (JSON with a CORS preflight, no cookie) are APIs at
// work. Sec-Fetch-Site is the browser's own word; Origin is the fallback for
// browsers without Fetch Metadata. A request with neither is not a browser's
// cross-site request (curl, a server) and passes: forms read through a CSRF
// token cover browsers that send neither.
import { entryName, type RouteEntry } from "./router.js";
import { hasSessionCookie } from "./session-cookie.js";

const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

function isCrossSite(request: Request): boolean {
  const headers = request.headers;
  const site = headers.get("sec-fetch-site");
  // "same-site" is another origin (a sibling subdomain): not trusted either.
  if (site !== null) return site !== "same-origin" && site !== "none";
  const origin = headers.get("origin");
  if (origin === null) return false;
  // "null" (a sandboxed frame, a redirect across sites) never equals an origin.
  return origin !== new URL(request.url).origin;
}

/** A form a browser could post from any site: a CORS-safelisted type, or none. */
function isFormLike(contentType: string | null): boolean {
  if (contentType === null) return true;
  const type = contentType.split(";", 1)[0].trim().toLowerCase();
  return FORM_TYPES.includes(type);
}

/** True for a request kiln answers 403: unsafe, cross-site, and a form or carrying the session cookie. */
export function isCsrf(request: Request, method: string): boolean {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return false;
  if (!isCrossSite(request)) return false;
  const headers = request.headers;
  return (method === "POST" && isFormLike(headers.get("content-type"))) || hasSessionCookie(headers.get("cookie"));
}

/** The check as the entry passes it in: to apps with a handler that can change something, or a csrf declaration. */
export const csrf = {
  refuses: isCsrf,
  /** At start-up: a declaration that is not true or false stops the Worker with the route's name. */
  validate(entries: RouteEntry[]): void {
    for (const e of entries) {
      const value = e.declares?.csrf;
      if (value !== undefined && typeof value !== "boolean") throw new TypeError(`${entryName(e)}: csrf must be true or false`);
    }
  },
};

export type CsrfSupport = typeof csrf;
