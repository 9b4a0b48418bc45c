// context.session: a signed cookie that carries a random id, and the data in
// Workers KV (binding SESSIONS) under a hash of that id. Lazy: no KV read until
// a handler asks, no KV write and no Set-Cookie unless something changed.
// KV has no compare-and-set, so an ended session is marked under a second key
// (revoked:<hash>) that every load reads beside the record: a write already in
// flight may put the record back, but no load accepts it (docs/sessions.md).
import { parseCookie, stringifySetCookie } from "cookie";
import { base64url, fromBase64url } from "./base64url.js";
import { mutable } from "./context.js";
import { errorResponse } from "./errors.js";
import { StoreUnavailableError } from "./unavailable.js";
import { COOKIE_NAME } from "./session-cookie.js";

/** A cookie value longer than this is not ours (ours is under 90 characters). */
const MAX_COOKIE = 4096;
const DEFAULT_IDLE = 24 * 3600;
const DEFAULT_MAX_AGE = 7 * 24 * 3600;
const DEFAULT_MAX_BYTES = 64 * 1024;
/** Seconds a request waits in session.lock() for the one that holds the session. */
const DEFAULT_LOCK_WAIT = 10;
/** Browsers cap a cookie's lifetime at 400 days, so a longer session could not be kept. */
const MAX_SECONDS = 400 * 24 * 3600;
/** KV's largest value. */
const MAX_BYTES = 25 * 1024 * 1024;
const COOKIE_SHAPE = /^([A-Za-z0-9_-]{24})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

/**
 * Where session records live: the one seam between the rules in this module and a storage
 * service, as Flask's SessionInterface is. A Workers KV binding satisfies it as it is, so
 * the default store is `env.SESSIONS` with no adapter to ship; a Durable Object store can
 * implement the same three calls, and the unit tests keep one in memory. What the rules
 * rely on: `get` sees this location's last `put` (null once deleted or expired); keys are
 * `session:<hash>` for records and `revoked:<hash>` for ended sessions, so a store that
 * keeps the mark elsewhere must still answer `get` for it; `expiration` is in seconds since
 * the epoch, at least 60 s ahead (KV's floor); any call may throw, and a write may be
 * refused (KV: one a second per key), which is why a write is retried once.
 */
export interface SessionStore {
  get(key: string, type: "text"): Promise<string | null>;
  /** `idle` only for a store with `commit`, which deletes a record nobody visited by then. */
  put(key: string, value: string, options: { expiration: number; idle?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys by prefix, as KV lists them; only `logout(context, { everywhere: true })` needs it. */
  list?(options: { prefix: string; cursor?: string }): Promise<{ keys: { name: string; expiration?: number }[]; list_complete: boolean; cursor?: string }>;
  /** The record and its mark in one call, where the store keeps both in one place (a Durable Object). */
  read?(key: string): Promise<{ text: string | null; revoked: boolean }>;
  /** A consistent store merges a loaded session's changes into the record as stored now; "ended" when a logout came first. */
  commit?(key: string, changes: SessionChanges, options: StoreWrite & { token?: string }): Promise<"ok" | "ended">;
  /** A store that enforces the idle timeout itself learns of a visit that only reissued the cookie. */
  touch?(key: string, options: StoreWrite): Promise<void>;
  /** Waits until no other request holds the session, then reads it; session.lock() needs it. */
  lock?(key: string, token: string, waitMs: number): Promise<{ text: string | null; revoked: boolean }>;
  unlock?(key: string, token: string): Promise<void>;
}

/** When a store with `commit` may delete a record: the absolute deadline, and the idle one (seconds since the epoch). */
export interface StoreWrite {
  expiration: number;
  idle: number;
}

/** What one request changed, key by key: what a store with `commit` merges. */
export interface SessionChanges {
  set: Record<string, unknown>;
  deleted: string[];
  /** New flash messages. */
  flash: Record<string, unknown>;
  /** Flash messages this request read (so they are gone). */
  taken: string[];
  /** Set by login or logout: a user id's hash, null for none; undefined when unchanged. */
  owner?: string | null;
}

/** What a Session reads from the world besides the request: its store, its clock and its wait before a retry. */
export interface SessionOptions {
  /** The store for a request's env, found when the session is first used; a mistake in the set-up throws SessionConfigError. */
  store?: (env: Record<string, unknown>) => SessionStore;
  /** ms since the epoch. */
  now?: () => number;
  /** Waits ms before a failed write's retry. */
  sleep?: (ms: number) => Promise<void>;
}

function kvBinding(env: Record<string, unknown>): SessionStore {
  const kv = env.SESSIONS as SessionStore | undefined;
  if (!kv || typeof kv.get !== "function") {
    throw new SessionConfigError("context.session needs a KV namespace bound as SESSIONS ([[kv_namespaces]] in wrangler.toml)");
  }
  return kv;
}

const DEFAULTS: Required<SessionOptions> = {
  store: kvBinding,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** KV allows one write a second per key: a failed write's one retry waits that long. */
const RETRY_DELAY = 1000;

interface SessionRecord {
  data: Record<string, unknown>;
  flash: Record<string, unknown>;
  /** ms since the epoch; the KV record expires at `deadline` whatever happens. */
  created: number;
  deadline: number;
  /** Whose session it is (a hash of the user's id, set by login): each id it gets is listed under `owned:<owner>:`, so all of them can be ended at once. */
  owner?: string;
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

/** 144 random bits from the platform's CSPRNG. */
function newId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(18)));
}

async function sign(secret: string, data: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(data)));
}

function readBoth(store: SessionStore, key: string): Promise<{ text: string | null; revoked: boolean }> {
  return Promise.all([store.get(key, "text"), store.get(revokedKey(key), "text")]).then(([text, mark]) => ({ text, revoked: mark !== null }));
}

async function verifyAny(secrets: string[], data: string, signature: string): Promise<boolean> {
  const sig = fromBase64url(signature);
  if (!sig) return false;
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

/** The key whose presence says the session ended (destroy or regenerate), whatever the record says. */
const revokedKey = (key: string) => `revoked:${key.slice(8)}`;

/** An owner's index entry for one of its sessions: `owned:<owner>:<record hash>`. */
const ownedKey = (owner: string, key: string) => `owned:${owner}:${key.slice(8)}`;

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

/** A numeric setting: digits only (or a whole number from wrangler.toml), so a typo stops the app instead of lifting a limit. */
function setting(env: Record<string, unknown>, name: string, fallback: number, min: number, max: number, unit: string): number {
  const value = env[name];
  if (value === undefined) return fallback;
  const n = typeof value === "number" ? value : typeof value === "string" && /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SessionConfigError(`${name} must be a whole number of ${unit} from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** A KV expiration (seconds) at the session's deadline; KV wants one at least 60 s ahead. */
function expiration(deadline: number, now: number): number {
  return Math.max(Math.floor(deadline / 1000), Math.floor(now / 1000) + 60);
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
  const record: SessionRecord = { data: plain(r.data), flash: plain(r.flash), created: r.created, deadline: r.deadline };
  if (typeof r.owner === "string") record.owner = r.owner;
  return record;
}

const asSent = (value: string) => value;

/**
 * The session cookie's value when the header names it exactly once; a second one is someone
 * else's doing, so neither counts. Each pair is read by the `cookie` package's own parser, so
 * "kiln_session =a" is the same name, as it is to any server that parses it that way. Values
 * are not percent-decoded: our cookie has one spelling.
 */
function sessionCookie(header: string | null): string | undefined {
  if (!header) return undefined;
  let value: string | undefined;
  for (const part of header.split(";")) {
    const pair = parseCookie(part, { decode: asSent });
    if (!(COOKIE_NAME in pair)) continue;
    if (value !== undefined) return undefined;
    value = pair[COOKIE_NAME] ?? "";
  }
  return value;
}

export class Session {
  #request: Request;
  #env: Record<string, unknown>;
  #loading: Promise<void> | undefined;
  #secrets: string[] = [];
  #store!: SessionStore;
  #options: Required<SessionOptions>;
  #id: string | undefined;
  /** The id whose record this request read from KV, if any. */
  #loaded: string | undefined;
  #record!: SessionRecord;
  #newFlash: Record<string, unknown> = Object.create(null);
  #dirty = false;
  #refresh = false;
  #destroyed = false;
  /** The loaded id ends with this request (destroy or regenerate). */
  #revoke = false;
  /** KV could not be read: what the handlers saw was a stand-in, not the visitor's session. */
  #readFailed = false;
  /** After a failed read, a handler acted on the stand-in: a delete that found nothing, or "not this session's token". The answer must not say it worked. */
  #guessed = false;
  #idle = DEFAULT_IDLE;
  #maxBytes = DEFAULT_MAX_BYTES;
  /** Data keys set or deleted, flash messages read, and whether the owner changed: what a merging store is sent. */
  #changed = new Set<string>();
  #taken = new Set<string>();
  #ownerChanged = false;
  /** Held through session.lock() until the commit. */
  #lockToken: string | undefined;
  /** The lock found the session ended by a logout: this request writes nothing and clears the cookie. */
  #gone = false;

  constructor(request: Request, env: Record<string, unknown>, options: Required<SessionOptions> = DEFAULTS) {
    this.#request = request;
    this.#env = env;
    this.#options = options;
  }

  #load(): Promise<void> {
    return (this.#loading ??= this.#read());
  }

  async #read(): Promise<void> {
    const env = this.#env;
    const store = (this.#store = this.#options.store(env));
    this.#secrets = readSecrets(env);
    this.#idle = setting(env, "SESSION_IDLE_TIMEOUT", DEFAULT_IDLE, 60, MAX_SECONDS, "seconds");
    const maxAge = setting(env, "SESSION_MAX_AGE", DEFAULT_MAX_AGE, 60, MAX_SECONDS, "seconds");
    this.#maxBytes = setting(env, "SESSION_MAX_BYTES", DEFAULT_MAX_BYTES, 1024, MAX_BYTES, "bytes");
    const now = this.#options.now();
    this.#record = { data: Object.create(null), flash: Object.create(null), created: now, deadline: now + maxAge * 1000 };

    const value = sessionCookie(this.#request.headers.get("cookie"));
    const parts = value && value.length <= MAX_COOKIE ? COOKIE_SHAPE.exec(value) : null;
    if (!parts) return;
    const [, id, issued, signature] = parts;
    const age = now / 1000 - parseInt(issued, 36);
    if (age > this.#idle || age < -60) return;
    // The signature check and the record's key at once: two trips through crypto.subtle cost one wait, not two.
    const [genuine, key] = await Promise.all([verifyAny(this.#secrets, `${COOKIE_NAME}=${id}.${issued}`, signature), recordKey(id)]);
    if (!genuine) return;
    let text: string | null;
    let revoked: boolean;
    try {
      ({ text, revoked } = store.read ? await store.read(key) : await readBoth(store, key));
    } catch (err) {
      this.#readFailed = true;
      console.warn(`kiln: reading the session from KV failed; the request goes on without it and may not change it: ${String(err)}`);
      return;
    }
    if (revoked) return; // ended, even if a write that was in flight put the record back
    const record = text === null ? undefined : parseRecord(text, now);
    if (!record) return; // a record we never wrote, or one that is gone: never adopt the id
    this.#id = this.#loaded = id;
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
      this.#taken.add(key);
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
    this.#changed.add(key);
    this.#dirty = true;
  }

  async delete(key: string): Promise<void> {
    await this.#load();
    if (this.#readFailed) this.#guessed = true; // the key may well be there: a 200 would claim a delete that did not happen
    if (key in this.#record.data) {
      delete this.#record.data[key];
      this.#changed.add(key);
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
      for (const key in messages) this.#taken.add(key);
      this.#record.flash = Object.create(null);
      this.#dirty = true;
    }
    return messages;
  }

  /** New id, same data, old id dead. Call it when the user logs in (or their rights change). */
  async regenerate(): Promise<void> {
    await this.#load();
    if (this.#id !== undefined && this.#id === this.#loaded) this.#revoke = true;
    this.#id = newId();
    this.#dirty = true;
  }

  /** Deletes the record and clears the cookie. */
  async destroy(): Promise<void> {
    await this.#load();
    if (this.#id !== undefined && this.#id === this.#loaded) this.#revoke = true;
    this.#id = undefined;
    this.#record.owner = undefined;
    this.#record.data = Object.create(null);
    this.#record.flash = Object.create(null);
    this.#newFlash = Object.create(null);
    this.#destroyed = true;
    this.#dirty = false;
  }

  /** @internal For login/logout (auth.ts): marks whose session this is, so that `endOwned` finds every id it has. */
  async own(owner: string | undefined): Promise<void> {
    await this.#load();
    this.#record.owner = owner;
    this.#ownerChanged = true;
    this.#dirty = true;
  }

  /**
   * @internal Ends every session listed under `owner`, this one included, with the marks that
   * destroy() writes. A store fault throws StoreUnavailableError before the request changes
   * anything else; the marks already written stay, and a retry writes the rest.
   */
  async endOwned(owner: string): Promise<void> {
    await this.#load();
    const store = this.#store;
    if (!store.list) throw new SessionConfigError("logout everywhere needs a session store that can list keys (a KV namespace does)");
    const now = this.#options.now();
    let cursor: string | undefined;
    do {
      let page;
      try {
        page = await store.list({ prefix: `owned:${owner}:`, cursor });
      } catch (err) {
        throw new StoreUnavailableError(`listing the user's sessions failed: ${String(err)}`);
      }
      const ended = await Promise.all(page.keys.map(({ name, expiration }) => this.#endListed(name, Math.max(expiration ?? 0, Math.floor(now / 1000) + 60))));
      if (ended.includes(false)) throw new StoreUnavailableError("ending the user's sessions failed");
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }

  /** One listed session ended as destroy() ends one: the mark, then the record's delete. */
  async #endListed(listed: string, until: number): Promise<boolean> {
    const key = `session:${listed.slice(listed.lastIndexOf(":") + 1)}`;
    if (!(await this.#retry("ending one of the user's sessions", () => this.#store.put(revokedKey(key), "1", { expiration: until })))) return false;
    await this.#retry("deleting an ended session's record", () => this.#store.delete(key));
    return true;
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
    if (this.#readFailed) this.#guessed = true;
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

  /**
   * The session to this request alone until it answers: other requests that lock wait (up to
   * SESSION_LOCK_TIMEOUT, 10 s, then a 503), so a read-modify-write (a counter, a cart) loses nothing. It reads the
   * session again once held, so call it before reading what you will change. Needs the Durable
   * Object store (docs/sessions.md); a session this request starts is nobody else's yet.
   */
  async lock(): Promise<void> {
    await this.#load();
    const store = this.#store;
    if (!store.lock) throw new SessionConfigError('session.lock() needs the Durable Object session store (SESSIONS bound to class_name = "KilnSessionStore"): see docs/sessions.md');
    if (this.#lockToken || this.#loaded === undefined || this.#id !== this.#loaded) return;
    if (this.#dirty) throw new TypeError("session.lock(): call it before changing the session, so that the change is made to what the lock reads");
    const token = newId();
    let state;
    try {
      const wait = setting(this.#env, "SESSION_LOCK_TIMEOUT", DEFAULT_LOCK_WAIT, 1, 30, "seconds");
      state = await store.lock(await recordKey(this.#loaded), token, wait * 1000);
    } catch (err) {
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`locking the session failed: ${String(err)}`);
    }
    this.#lockToken = token;
    const record = !state.revoked && state.text !== null ? parseRecord(state.text, this.#options.now()) : undefined;
    if (record) {
      this.#record = record;
      return;
    }
    // A logout came first: from here on the request sees an anonymous session and writes nothing.
    this.#gone = true;
    this.#id = undefined;
    this.#record = { ...this.#record, data: Object.create(null), flash: Object.create(null), owner: undefined };
  }

  /** @internal Frees a lock that no commit will free (a handler threw); the object's lease would, later. */
  async release(): Promise<void> {
    const token = this.#lockToken;
    if (!token || !this.#loaded) return;
    this.#lockToken = undefined;
    try {
      await this.#store.unlock!(await recordKey(this.#loaded), token);
    } catch (err) {
      console.warn(`kiln: releasing the session lock failed; it frees itself when its lease runs out: ${String(err)}`);
    }
  }

  /**
   * Saves what changed and sets the headers; called once, after the handlers. Order matters:
   * the new record first (a failed login keeps the old session), then the revocation mark
   * (from then on no load accepts the old id), then the old record's delete.
   */
  async commit(response: Response): Promise<Response> {
    if (!this.#loading) return response;
    await this.#loading;
    try {
      return await this.#save(response);
    } finally {
      await this.release();
    }
  }

  async #save(response: Response): Promise<Response> {
    if (this.#readFailed && (this.#dirty || this.#destroyed || this.#guessed)) return this.#unavailable(response);
    // The handler's own response, unless its headers are read-only (a static file, fetch()): no copy for the usual case.
    const out = mutable(response);
    out.headers.set("cache-control", "private, no-store");
    out.headers.append("vary", "Cookie");
    const now = this.#options.now();
    const expires = expiration(this.#record.deadline, now);
    if (this.#gone) {
      out.headers.append("set-cookie", this.#cookie("", 0));
      return out;
    }
    if (this.#dirty) {
      const key = await recordKey((this.#id ??= newId()));
      const saved = this.#store.commit && this.#id === this.#loaded ? await this.#merge(key, expires) : await this.#write(key, expires);
      if (!saved) return this.#unavailable(response);
      if (saved === "ended") {
        // A logout committed while this request ran: the serial order is "this change, then the
        // logout", so the change goes with the session and the browser keeps its cleared cookie.
        out.headers.append("set-cookie", this.#cookie("", 0));
        return out;
      }
    }
    if (this.#revoke) {
      const key = await recordKey(this.#loaded!);
      if (!(await this.#retry("ending the session", () => this.#store.put(revokedKey(key), "1", { expiration: expires })))) return this.#unavailable(response);
      // The id is dead already; a record left behind is unreachable and expires at its deadline.
      await this.#retry("deleting an ended session's record", () => this.#store.delete(key));
    }
    if (this.#destroyed && !this.#dirty) {
      out.headers.append("set-cookie", this.#cookie("", 0));
      return out;
    }
    if (!this.#dirty && (!this.#refresh || !this.#id)) return out;
    if (!this.#dirty && this.#store.touch && !(await this.#touch(expires))) return out;
    const issued = Math.floor(now / 1000).toString(36);
    const signature = await sign(this.#secrets[0], `${COOKIE_NAME}=${this.#id}.${issued}`);
    // Rounded up: a new session's cookie says the configured max age, not a second less for the milliseconds the request took.
    out.headers.append("set-cookie", this.#cookie(`${this.#id}.${issued}.${signature}`, Math.ceil((this.#record.deadline - now) / 1000)));
    return out;
  }

  /** The whole record (KV; a new id on any store); "ended" when a logout marked the loaded session meanwhile, false on a fault. */
  async #write(key: string, expires: number): Promise<"ok" | "ended" | false> {
    const record = JSON.stringify({ ...this.#record, flash: { ...this.#record.flash, ...this.#newFlash } });
    // An owned session's new id is listed first: an id that logout everywhere could not find would outlive it.
    const owner = this.#record.owner;
    if (owner && this.#id !== this.#loaded && !(await this.#retry("listing the session under its user", () => this.#store.put(ownedKey(owner, key), "", { expiration: expires })))) {
      return false;
    }
    // A store that merges also enforces the idle timeout (a Durable Object's alarm); KV is given only what it knows.
    const options = this.#store.commit ? this.#deadlines(expires) : { expiration: expires };
    if (!(await this.#retry("saving the session", () => this.#store.put(key, record, options)))) return false;
    if (this.#id !== this.#loaded || !(await this.#endedMeanwhile(key))) return "ok";
    await this.#retry("deleting a session record written after its logout", () => this.#store.delete(key));
    return "ended";
  }

  /**
   * The idle deadline a store may enforce: a minute past the cookie's own, so the store never
   * deletes a session whose cookie is still accepted (the cookie allows a minute of clock skew).
   */
  #deadlines(expiration: number): StoreWrite {
    return { expiration, idle: Math.min(expiration, Math.floor(this.#options.now() / 1000) + this.#idle + 60) };
  }

  /**
   * A visit that changed nothing but is due a fresh cookie moves the store's idle deadline first.
   * If that fails the cookie is not reissued either: a cookie must never outlive its record.
   */
  async #touch(expires: number): Promise<boolean> {
    try {
      await this.#store.touch!(await recordKey(this.#id!), this.#deadlines(expires));
      return true;
    } catch (err) {
      console.warn(`kiln: moving the session's idle deadline failed; the cookie is reissued on a later visit: ${String(err)}`);
      return false;
    }
  }

  /** Only what this request changed, merged by the store into the record as it is now: another request's keys survive. */
  async #merge(key: string, expires: number): Promise<"ok" | "ended" | false> {
    const { data, owner } = this.#record;
    const changes: SessionChanges = { set: Object.create(null), deleted: [], flash: this.#newFlash, taken: [...this.#taken] };
    for (const k of this.#changed) {
      if (k in data) changes.set[k] = data[k];
      else changes.deleted.push(k);
    }
    if (this.#ownerChanged) changes.owner = owner ?? null;
    const token = this.#lockToken;
    let result: "ok" | "ended" = "ok";
    const saved = await this.#retry("saving the session", async () => {
      result = await this.#store.commit!(key, changes, { ...this.#deadlines(expires), token });
    });
    if (!saved) return false;
    this.#lockToken = undefined; // the object freed it with the commit
    return result;
  }

  /**
   * Read after our own write. A logout that marked the session before this read shows here (in
   * this location at once, elsewhere within KV's 60 s), and then our write must go; one that
   * marks it after this read deletes the record after our write itself.
   */
  async #endedMeanwhile(key: string): Promise<boolean> {
    try {
      return (await this.#store.get(revokedKey(key), "text")) !== null;
    } catch (err) {
      console.warn(`kiln: checking the session for a logout after saving it failed: ${String(err)}`);
      return false; // every later load checks the mark again
    }
  }

  /** A store fault: no cookie changes and nothing the old cookie reaches was touched, so the visitor keeps what they had. */
  #unavailable(response: Response): Response {
    response.body?.cancel().catch(() => {});
    return errorResponse(this.#request, 503, "Service Unavailable: the session store failed, so your session was left as it was. Please try again.", undefined, {
      "retry-after": "1",
    });
  }

  /** One write; on failure one retry, RETRY_DELAY later. */
  async #retry(what: string, write: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return true;
      } catch (err) {
        console.warn(`kiln: ${what} failed (attempt ${attempt}): ${String(err)}`);
        if (attempt === 2) return false;
        await this.#options.sleep(RETRY_DELAY);
      }
    }
  }
}

export interface SessionSupport {
  open(request: Request, env: Record<string, unknown>): Session;
}

/** Session support with another store, clock or wait (a Durable Object store; tests); `sessions` is the default. */
export function createSessions(options: SessionOptions = {}): SessionSupport {
  const resolved = { ...DEFAULTS, ...options };
  return { open: (request, env) => new Session(request, env, resolved) };
}

/** What the generated entry passes to createHandler: KV bound as SESSIONS, the real clock. */
export const sessions: SessionSupport = /* @__PURE__ */ createSessions();
