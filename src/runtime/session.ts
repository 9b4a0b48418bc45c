// context.session: a signed cookie that carries a random id, and the data in
// Workers KV (binding SESSIONS) under a hash of that id. Lazy: no KV read until
// a handler asks, no KV write and no Set-Cookie unless something changed.
import { parseCookie, stringifySetCookie } from "cookie";
import { base64url } from "./base64url.js";

export const COOKIE_NAME = "kiln_session";
/** A cookie value longer than this is not ours (ours is under 90 characters). */
const MAX_COOKIE = 4096;
const DEFAULT_IDLE = 24 * 3600;
const DEFAULT_MAX_AGE = 7 * 24 * 3600;
const DEFAULT_MAX_BYTES = 64 * 1024;
const COOKIE_SHAPE = /^([A-Za-z0-9_-]{24})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

interface KVLike {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options?: { expiration?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

interface SessionRecord {
  data: Record<string, unknown>;
  flash: Record<string, unknown>;
  /** ms since the epoch; the KV record expires at `deadline` whatever happens. */
  created: number;
  deadline: number;
}

/** A mistake in the app's session set-up, named so the developer can fix it. */
export class SessionConfigError extends Error {
  override name = "SessionConfigError";
}

/** Session data that would not fit the budget (SESSION_MAX_BYTES). */
export class SessionSizeError extends Error {
  override name = "SessionSizeError";
}

const enc = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** 144 random bits from the platform's CSPRNG. */
function newId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(18)));
}

async function sign(secret: string, data: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(data)));
}

async function verifyAny(secrets: string[], data: string, signature: string): Promise<boolean> {
  const sig = fromBase64url(signature);
  for (const secret of secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, enc.encode(data))) return true;
  }
  return false;
}

/** The KV key: a hash, so a leaked key list gives nobody a usable cookie. */
async function recordKey(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", enc.encode(id));
  return `session:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function readSecrets(env: Record<string, unknown>): string[] {
  const raw = env.SESSION_SECRET;
  const secrets = typeof raw === "string" ? raw.split(",").map((s) => s.trim()).filter(Boolean) : [];
  if (secrets.length === 0) {
    throw new SessionConfigError(
      "SESSION_SECRET is not set: put one in .dev.vars for wrangler dev, and `wrangler secret put SESSION_SECRET` for deploys",
    );
  }
  secrets.forEach((s, i) => {
    if (s.length < 32) throw new SessionConfigError(`SESSION_SECRET: secret ${i + 1} is ${s.length} characters; use at least 32`);
  });
  return secrets;
}

function seconds(env: Record<string, unknown>, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 60) throw new SessionConfigError(`${name} must be a number of seconds, at least 60 (got ${String(value)})`);
  return n;
}

/** A null-prototype copy, so keys like __proto__ stay plain data. */
function plain(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, value);
  return out;
}

function parseRecord(text: string, now: number): SessionRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.created !== "number" || typeof r.deadline !== "number" || r.deadline <= now) return undefined;
  if (!r.data || typeof r.data !== "object" || Array.isArray(r.data)) return undefined;
  return { data: plain(r.data), flash: plain(r.flash), created: r.created, deadline: r.deadline };
}

/** True when the request has exactly one session cookie; a second one is someone else's doing. */
function sessionCookie(header: string | null): string | undefined {
  if (!header) return undefined;
  let count = 0;
  for (const part of header.split(";")) if (part.trimStart().startsWith(`${COOKIE_NAME}=`)) count++;
  if (count !== 1) return undefined;
  return parseCookie(header)[COOKIE_NAME];
}

export class Session {
  #request: Request;
  #env: Record<string, unknown>;
  #loading: Promise<void> | undefined;
  #secrets: string[] = [];
  #kv!: KVLike;
  #id: string | undefined;
  #record!: SessionRecord;
  #newFlash: Record<string, unknown> = Object.create(null);
  #dirty = false;
  #refresh = false;
  #destroyed = false;
  #dead: string[] = [];
  #idle = DEFAULT_IDLE;
  #maxBytes = DEFAULT_MAX_BYTES;

  constructor(request: Request, env: Record<string, unknown>) {
    this.#request = request;
    this.#env = env;
  }

  #load(): Promise<void> {
    return (this.#loading ??= this.#read());
  }

  async #read(): Promise<void> {
    const env = this.#env;
    const kv = env.SESSIONS as KVLike | undefined;
    if (!kv || typeof kv.get !== "function") {
      throw new SessionConfigError("context.session needs a KV namespace bound as SESSIONS ([[kv_namespaces]] in wrangler.toml)");
    }
    this.#kv = kv;
    this.#secrets = readSecrets(env);
    this.#idle = seconds(env, "SESSION_IDLE_TIMEOUT", DEFAULT_IDLE);
    const maxAge = seconds(env, "SESSION_MAX_AGE", DEFAULT_MAX_AGE);
    this.#maxBytes = env.SESSION_MAX_BYTES === undefined ? DEFAULT_MAX_BYTES : Number(env.SESSION_MAX_BYTES);
    const now = Date.now();
    this.#record = { data: Object.create(null), flash: Object.create(null), created: now, deadline: now + maxAge * 1000 };

    const value = sessionCookie(this.#request.headers.get("cookie"));
    const parts = value && value.length <= MAX_COOKIE ? COOKIE_SHAPE.exec(value) : null;
    if (!parts) return;
    const [, id, issued, signature] = parts;
    if (!(await verifyAny(this.#secrets, `${COOKIE_NAME}=${id}.${issued}`, signature))) return;
    const age = now / 1000 - parseInt(issued, 36);
    if (age > this.#idle || age < -60) return;
    let text: string | null;
    try {
      text = await kv.get(await recordKey(id), "text");
    } catch (err) {
      console.warn(`kiln: reading the session from KV failed; the request goes on without it: ${String(err)}`);
      return;
    }
    const record = text === null ? undefined : parseRecord(text, now);
    if (!record) return; // a record we never wrote, or one that is gone: never adopt the id
    this.#id = id;
    this.#record = record;
    // An active session's cookie is reissued now and then, so the idle timeout counts from the last visit.
    this.#refresh = age > this.#idle / 4;
  }

  /** A value set earlier, or a flash message set by the previous request (then gone). */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    await this.#load();
    const flash = this.#record.flash;
    if (key in flash) {
      const value = flash[key];
      delete flash[key];
      this.#dirty = true;
      return value as T;
    }
    return this.#record.data[key] as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.#load();
    if (value === undefined) throw new TypeError(`session.set("${key}", undefined): use session.delete("${key}")`);
    this.#record.data[key] = value;
    this.#checkSize(key);
    this.#dirty = true;
  }

  async delete(key: string): Promise<void> {
    await this.#load();
    if (key in this.#record.data) {
      delete this.#record.data[key];
      this.#dirty = true;
    }
  }

  /** Readable once, by a later request's get(key) (or flashes()). */
  async flash(key: string, value: unknown): Promise<void> {
    await this.#load();
    this.#newFlash[key] = value;
    this.#checkSize(key);
    this.#dirty = true;
  }

  /** Every flash message from earlier requests, read once. */
  async flashes(): Promise<Record<string, unknown>> {
    await this.#load();
    const messages = { ...this.#record.flash };
    if (Object.keys(messages).length) {
      this.#record.flash = Object.create(null);
      this.#dirty = true;
    }
    return messages;
  }

  /** New id, same data, old id dead. Call it when the user logs in (or their rights change). */
  async regenerate(): Promise<void> {
    await this.#load();
    if (this.#id) this.#dead.push(this.#id);
    this.#id = newId();
    this.#dirty = true;
  }

  /** Deletes the record and clears the cookie. */
  async destroy(): Promise<void> {
    await this.#load();
    if (this.#id) this.#dead.push(this.#id);
    this.#id = undefined;
    this.#record.data = Object.create(null);
    this.#record.flash = Object.create(null);
    this.#newFlash = Object.create(null);
    this.#destroyed = true;
    this.#dirty = false;
  }

  /** A token for forms, bound to this session; check it with verifyCsrfToken. Starts the session if needed. */
  async csrfToken(): Promise<string> {
    await this.#load();
    if (!this.#id) {
      this.#id = newId();
      this.#dirty = true;
    }
    return sign(this.#secrets[0], `csrf:${this.#id}`);
  }

  async verifyCsrfToken(token: unknown): Promise<boolean> {
    await this.#load();
    if (!this.#id || typeof token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
    return verifyAny(this.#secrets, `csrf:${this.#id}`, token);
  }

  #checkSize(key: string): void {
    const size = enc.encode(JSON.stringify({ ...this.#record, flash: { ...this.#record.flash, ...this.#newFlash } })).length;
    if (size > this.#maxBytes) {
      throw new SessionSizeError(`session data would be ${size} bytes after setting "${key}", over the budget of ${this.#maxBytes} (SESSION_MAX_BYTES)`);
    }
  }

  #cookie(value: string, maxAge: number): string {
    return stringifySetCookie({
      name: COOKIE_NAME,
      value,
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: this.#request.url.startsWith("https:"),
      maxAge,
    });
  }

  /** Saves what changed (one KV write) and sets the headers; called once, after the handlers. */
  async commit(response: Response): Promise<Response> {
    if (!this.#loading) return response;
    await this.#loading;
    const out = new Response(response.body, response);
    out.headers.set("cache-control", "private, no-store");
    out.headers.append("vary", "Cookie");
    const now = Date.now();
    for (const id of this.#dead) {
      try {
        await this.#kv.delete(await recordKey(id));
      } catch (err) {
        console.warn(`kiln: deleting an old session record failed: ${String(err)}`);
      }
    }
    if (this.#destroyed && !this.#dirty) {
      out.headers.append("set-cookie", this.#cookie("", 0));
      return out;
    }
    const maxAge = Math.floor((this.#record.deadline - now) / 1000);
    if (this.#dirty) {
      const id = (this.#id ??= newId());
      const record = { ...this.#record, flash: { ...this.#record.flash, ...this.#newFlash } };
      const saved = await this.#save(id, JSON.stringify(record), Math.max(Math.floor(this.#record.deadline / 1000), Math.floor(now / 1000) + 60));
      if (!saved) {
        return new Response("The session could not be saved. Please try again.\n", {
          status: 503,
          headers: { "retry-after": "1", "cache-control": "no-store" },
        });
      }
    } else if (!this.#refresh || !this.#id) {
      return out;
    }
    const issued = Math.floor(now / 1000).toString(36);
    const signature = await sign(this.#secrets[0], `${COOKIE_NAME}=${this.#id}.${issued}`);
    out.headers.append("set-cookie", this.#cookie(`${this.#id}.${issued}.${signature}`, maxAge));
    return out;
  }

  /** One write; on failure (KV allows one write a second per key) one retry a second later. */
  async #save(id: string, value: string, expiration: number): Promise<boolean> {
    const key = await recordKey(id);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.#kv.put(key, value, { expiration });
        return true;
      } catch (err) {
        console.warn(`kiln: saving the session failed (attempt ${attempt + 1}): ${String(err)}`);
        if (attempt === 0) await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return false;
  }
}

/** Unsafe methods from another site, on a request that carries the session cookie, are refused (CSRF). */
export function isCrossSiteWithSession(request: Request): boolean {
  const method = request.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH" && method !== "DELETE") return false;
  const headers = request.headers;
  if (!(headers.get("cookie") ?? "").includes(`${COOKIE_NAME}=`)) return false;
  const site = headers.get("sec-fetch-site");
  if (site) return site !== "same-origin" && site !== "none";
  const origin = headers.get("origin");
  if (!origin) return false;
  return origin !== new URL(request.url).origin;
}

export const sessions = {
  open: (request: Request, env: Record<string, unknown>) => new Session(request, env),
  isCrossSite: isCrossSiteWithSession,
};

export type SessionSupport = typeof sessions;
