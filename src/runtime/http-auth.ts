// HTTP authentication for machines and staging sites, as middleware:
// `export const onRequest = basicAuth({...})` in a folder's _middleware.ts.
// Credentials are compared as SHA-256 digests, byte by byte without an early
// exit, so neither the time nor the length of a wrong guess tells anything.
import { errorResponse } from "./errors.js";
import { sameBytes } from "./password.js";
import type { EventContext, Handler } from "./types.js";

/** A credential, or where to find it: `(env) => env.STAGING_PASSWORD` keeps it out of the code. */
export type Credential<Env = any> = string | ((env: Env) => string | undefined);

export interface BasicAuthOptions<Env = any> {
  username: Credential<Env>;
  password: Credential<Env>;
  /** Shown by the browser's password prompt. Default: "kiln". */
  realm?: string;
}

export interface BearerAuthOptions<Env = any> {
  /** The token, or several (any one is accepted: keep two while rotating). */
  token: Credential<Env> | Credential<Env>[];
  realm?: string;
}

const enc = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

function resolve(credential: Credential, env: unknown, what: string): string {
  const value = typeof credential === "function" ? credential(env) : credential;
  // A secret that is not set must not turn into "anyone with an empty password".
  if (typeof value !== "string" || value === "") throw new Error(`${what} is not set (is the secret in .dev.vars and \`wrangler secret put\`?)`);
  return value;
}

async function same(given: string, expected: string): Promise<boolean> {
  return sameBytes(await digest(given), await digest(expected));
}

function checkRealm(realm: string): string {
  if (!/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm)) throw new TypeError(`realm ${JSON.stringify(realm)}: use printable ASCII without quotes or backslashes`);
  return realm;
}

/** user and password from `Authorization: Basic base64(user:password)`, UTF-8; undefined when the header is anything else. */
function basicCredentials(header: string | null): [string, string] | undefined {
  const m = header && /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  return colon < 0 ? undefined : [text.slice(0, colon), text.slice(colon + 1)];
}

/** Middleware that lets through requests with the right `Authorization: Basic` header; the rest get 401 and the browser's password prompt. */
export function basicAuth<Env = any>(options: BasicAuthOptions<Env>): Handler<string, Env> {
  const challenge = `Basic realm="${checkRealm(options.realm ?? "kiln")}", charset="UTF-8"`;
  return async (context: EventContext<Env>) => {
    const given = basicCredentials(context.request.headers.get("authorization"));
    const username = resolve(options.username, context.env, "basicAuth: the username");
    const password = resolve(options.password, context.env, "basicAuth: the password");
    // Both compared every time, so the answer takes as long for a wrong user name as for a wrong password.
    const [userOk, passwordOk] = await Promise.all([same(given?.[0] ?? "", username), same(given?.[1] ?? "", password)]);
    if (given && userOk && passwordOk) return context.next();
    return errorResponse(context.request, 401, "Unauthorized", undefined, { "www-authenticate": challenge });
  };
}

/** RFC 6750's b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Middleware that lets through requests with one of the tokens in
 * `Authorization: Bearer`. As RFC 6750 says: no token is 401 with a bare
 * challenge, a wrong one 401 with `error="invalid_token"`, a header that is
 * not a bearer token 400 with `error="invalid_request"`.
 */
export function bearerAuth<Env = any>(options: BearerAuthOptions<Env>): Handler<string, Env> {
  const realm = `Bearer realm="${checkRealm(options.realm ?? "kiln")}"`;
  const tokens = Array.isArray(options.token) ? options.token : [options.token];
  return async (context: EventContext<Env>) => {
    const request = context.request;
    const header = request.headers.get("authorization");
    const expected = tokens.map((t, i) => resolve(t, context.env, `bearerAuth: token ${i + 1}`));
    // No token, or another scheme's credentials: the client is told which scheme this is.
    if (header === null || !/^bearer(?: |$)/i.test(header)) return errorResponse(request, 401, "Unauthorized", undefined, { "www-authenticate": realm });
    const m = BEARER.exec(header);
    if (!m) return errorResponse(request, 400, "Bad Request: the Authorization header is not a bearer token", undefined, { "www-authenticate": `${realm}, error="invalid_request"` });
    const matches = await Promise.all(expected.map((token) => same(m[1], token)));
    if (matches.includes(true)) return context.next();
    return errorResponse(request, 401, "Unauthorized: invalid token", undefined, { "www-authenticate": `${realm}, error="invalid_token"` });
  };
}
