// Who the visitor is and what they may do. A login is a user object kept in
// the session (so asking costs nothing beyond the session's own read), under
// a new session id; `access` declarations are checked before any middleware
// or handler runs, as the cross-site check is. The entry ships this module
// only to apps that declare `access` or import these functions.
import type { AccessSupport, ChainRun } from "./context.js";
import { errorResponse, isPageLoad } from "./errors.js";
import { entryName, type RouteEntry } from "./router.js";
import { COOKIE_NAME } from "./session-cookie.js";
import type { Session } from "./session.js";
import { statusPage } from "./static-files.js";

/** A logged-in user as kiln keeps it: what login() was given, with `roles` always a list. */
export interface User {
  id: string | number;
  roles: string[];
  [field: string]: unknown;
}

/** What login() takes: an id, its roles, and any other JSON the app wants at hand on every request (a name, an email). */
export interface LoginUser {
  id: string | number;
  roles?: readonly string[];
  [field: string]: unknown;
}

/** Anyone, any logged-in user, or a user with one of the roles. */
export type AccessRule = "public" | "user" | { role: string | readonly string[] };

/**
 * `export const access = ...`: one rule for every method, or a rule per method
 * (`{ GET: "public", POST: { role: "admin" } }`). HEAD follows GET; a method
 * not named takes the `"*"` rule, and without one needs a login.
 */
export type Access = AccessRule | Partial<Record<"GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "*", AccessRule>>;

const METHOD_KEYS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"];

interface WithSession {
  session: Session;
}

/** The session key of the user; app code is unlikely to pick a name with a colon. */
const USER_KEY = "kiln:user";
/** A login page of the app's own: the 303 for a visitor who is not logged in goes there. */
const DEFAULT_LOGIN_PATH = "/login";

const isId = (id: unknown) => (typeof id === "string" && id !== "") || (typeof id === "number" && Number.isSafeInteger(id));
const isRoles = (roles: unknown): roles is string[] => Array.isArray(roles) && roles.every((r) => typeof r === "string");

/** The owner tag of a user's sessions: a hash, so the store's key list names nobody. */
async function ownerOf(id: string | number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`user:${id}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Logs `user` in: a new session id (an id planted before the login is dead
 * after it, and the visitor keeps their session's data), and the user kept in
 * the session. Call it only once the password (or other proof) is checked.
 */
export async function login(context: WithSession, user: LoginUser): Promise<User> {
  if (!user || typeof user !== "object" || !isId(user.id)) throw new TypeError("login(context, user): user.id must be a non-empty string or a whole number");
  const roles = user.roles ?? [];
  if (!isRoles(roles)) throw new TypeError("login(context, user): user.roles must be a list of strings");
  const stored: User = { ...user, id: user.id, roles: [...roles] };
  const session = context.session;
  await session.regenerate();
  await session.set(USER_KEY, stored);
  await session.own(await ownerOf(stored.id));
  return { ...stored, roles: [...roles] };
}

/**
 * Ends the session: record deleted, cookie cleared. With `everywhere`, every
 * other session of the same user ends too (other browsers, a stolen cookie):
 * call it after a password change.
 */
export async function logout(context: WithSession, options: { everywhere?: boolean } = {}): Promise<void> {
  const session = context.session;
  if (options.everywhere) {
    const user = await userOf(session);
    if (user) await session.endOwned(await ownerOf(user.id));
  }
  await session.destroy();
}

async function userOf(session: Session): Promise<User | undefined> {
  const value = (await session.get(USER_KEY)) as User | undefined;
  return value && typeof value === "object" && isId(value.id) && isRoles(value.roles) ? { ...value, roles: [...value.roles] } : undefined;
}

/** The logged-in user, or undefined. Costs no store read on a request that never asks. */
export function currentUser<U extends User = User>(context: WithSession): Promise<U | undefined> {
  return userOf(context.session) as Promise<U | undefined>;
}

const NEXT_BASE = "http://next.invalid";

/**
 * `value` when it is a path on this site, else `fallback`: for a `next`
 * parameter, which anyone can write into a link to the login page. What a
 * browser would make of it is what counts: it drops tabs and newlines, reads
 * `\` as `/`, and takes `//host` (however spelt or encoded) for another site.
 */
export function safeNext(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || value.length > 2048) return fallback;
  // Each decoding that a server or a browser on the way might apply must still be a path on this site.
  let layer = value;
  for (let i = 0; i < 4; i++) {
    if (!onThisSite(layer)) return fallback;
    if (!layer.includes("%")) break;
    try {
      layer = decodeURIComponent(layer);
    } catch {
      return fallback;
    }
  }
  const url = new URL(value, NEXT_BASE);
  return url.pathname + url.search + url.hash;
}

/**
 * A path that the URL parser (a browser's) keeps on this site, with no control characters. The
 * parser reads `\` as `/` and drops tabs and newlines; "/.//host" resolves to "//host", which a
 * Location header would send to another site, so the resolved path is what is checked.
 */
function onThisSite(path: string): boolean {
  if (path[0] !== "/" || /[\x00-\x1f\x7f]/.test(path)) return false;
  const url = new URL(path, NEXT_BASE);
  return url.origin === NEXT_BASE && !url.pathname.startsWith("//");
}

function loginPath(env: Record<string, unknown>): string {
  const path = env.LOGIN_PATH;
  return typeof path === "string" && safeNext(path, "") === path ? path : DEFAULT_LOGIN_PATH;
}

/** A browser's page load goes to the login page; a script or an API client gets 401. */
function unauthenticated(run: ChainRun, request: Request): Response {
  const login = loginPath(run.env);
  if (!isPageLoad(request, request.headers.get("accept"))) {
    // RFC 9110 wants a challenge with every 401; this scheme (draft-broyer-http-cookie-auth) names the form and the cookie.
    const challenge = `Cookie realm="${new URL(request.url).host}", form-action="${login}", cookie-name="${COOKIE_NAME}"`;
    return errorResponse(request, 401, "Unauthorized: log in first", undefined, { "www-authenticate": challenge });
  }
  const url = new URL(request.url);
  const next = safeNext(url.pathname + url.search, "");
  return errorResponse(request, 303, "See Other: log in first", undefined, { location: next && next !== "/" ? `${login}?next=${encodeURIComponent(next)}` : login });
}

async function denied(run: ChainRun, rule: Exclude<AccessRule, "public">, request: Request): Promise<Response | Promise<Response> | undefined> {
  const sessions = run.app.sessions;
  if (!sessions) throw new Error("access needs sessions: see docs/auth.md");
  const user = await userOf((run.session ??= sessions.open(run.request, run.env)));
  if (!user) return unauthenticated(run, request);
  if (rule === "user") return undefined;
  const roles = typeof rule.role === "string" ? [rule.role] : rule.role;
  if (roles.some((role) => user.roles.includes(role))) return undefined;
  return statusPage(request, run.env, run.app.files, 403) ?? errorResponse(request, 403, "Forbidden: your account does not have the role this needs");
}

function isRule(value: unknown): value is AccessRule {
  if (value === "public" || value === "user") return true;
  if (!value || typeof value !== "object" || Object.keys(value).join() !== "role") return false;
  const role = (value as { role: unknown }).role;
  return (typeof role === "string" && role !== "") || (isRoles(role) && role.length > 0 && !role.includes(""));
}

function isAccess(value: unknown): value is Access {
  if (isRule(value)) return true;
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([method, rule]) => METHOD_KEYS.includes(method) && isRule(rule));
}

/** The rule for this request's method. */
function ruleFor(access: Access, method: string): AccessRule {
  if (typeof access === "string" || "role" in access) return access as AccessRule;
  const byMethod = access as Record<string, AccessRule | undefined>;
  return byMethod[method] ?? (method === "HEAD" ? byMethod.GET : undefined) ?? byMethod["*"] ?? "user";
}

/** What the generated entry passes to createHandler when a file declares `access`. */
export const access: AccessSupport = {
  validate(entries: RouteEntry[]): void {
    for (const entry of entries) {
      const value = entry.declares?.access;
      if (value !== undefined && !isAccess(value)) {
        throw new TypeError(
          `${entryName(entry)}: access must be "public", "user", { role: "name" }, { role: ["name", ...] }, or such rules by method ({ GET: "public", POST: "user" })`,
        );
      }
    }
  },
  async guard(run: ChainRun, access: unknown, request: Request): Promise<Response> {
    const rule = ruleFor(access as Access, request.method);
    if (rule !== "public") {
      const answer = await denied(run, rule, request);
      if (answer) return answer;
    }
    return run.step(0, request);
  },
};
