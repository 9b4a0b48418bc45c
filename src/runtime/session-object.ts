// The Durable Object session store: SESSIONS bound to a namespace with
// class_name = "KilnSessionStore". One object per session id (named by the
// record key's hash), one per user for the index that logout everywhere reads.
// An object runs one event at a time between awaits, so what KV cannot give
// comes from ordering alone: a commit merges its keys into what is stored now,
// a revoked object refuses every later write, and lockers queue in memory.
// The entry imports this module only when wrangler.toml binds the class, so
// apps on KV do not ship it.
import { createSessions, type SessionChanges, type SessionStore, type SessionSupport, type StoreWrite, SessionConfigError } from "./session.js";
import { errorResponse } from "./errors.js";
import { StoreUnavailableError } from "./unavailable.js";

/** A holder that never answers (its isolate died) frees the session after this. */
const LEASE = 30_000;

/** session.lock() waited SESSION_LOCK_TIMEOUT for another request: 503, and nothing was changed. */
export class SessionLockTimeoutError extends StoreUnavailableError {
  override name = "SessionLockTimeoutError";
  override kilnAnswer(request: Request): Response {
    console.warn(`kiln: ${this.message}`);
    return errorResponse(request, 503, "Service Unavailable: another request is using your session. Please try again.", undefined, { "retry-after": "1" });
  }
}

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

type Stored = { text: string | null; revoked: boolean };

/** One call to the object that holds `name`; anything but a 2xx is a fault, so the caller answers 503. */
async function call<T>(ns: Namespace, name: string, op: string, body: unknown = {}): Promise<T> {
  const response = await ns.get(ns.idFromName(name)).fetch(`https://session.kiln/${op}`, { method: "POST", body: JSON.stringify(body) });
  if (response.status === 423) throw new SessionLockTimeoutError(`session.lock() ${await response.text()} (SESSION_LOCK_TIMEOUT)`);
  if (!response.ok) throw new Error(`KilnSessionStore ${op}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The SessionStore seam on objects: `session:h` and `revoked:h` live in object h, `owned:o:h` in object `owned:o`. */
export function objectStore(ns: Namespace): Required<SessionStore> {
  const hash = (key: string) => key.slice(key.lastIndexOf(":") + 1);
  const owner = (key: string) => key.slice(0, key.lastIndexOf(":"));
  return {
    async get(key) {
      const state = await call<Stored>(ns, `session:${hash(key)}`, "load");
      return key.startsWith("revoked:") ? (state.revoked ? "1" : null) : state.text;
    },
    read: (key) => call<Stored>(ns, `session:${hash(key)}`, "load"),
    async put(key, value, { expiration, idle }) {
      if (key.startsWith("owned:")) await call(ns, owner(key), "own", { hash: hash(key), expiration });
      else if (key.startsWith("revoked:")) await call(ns, `session:${hash(key)}`, "end", { expiration });
      else await call(ns, `session:${hash(key)}`, "put", { text: value, expiration, idle: idle ?? expiration });
    },
    async delete(key) {
      // A record goes with its revocation ("end"); a record alone is only deleted after one, so there is nothing left to do.
      void key;
    },
    async list({ prefix }) {
      const keys = await call<{ name: string; expiration: number }[]>(ns, prefix.slice(0, -1), "list");
      return { keys: keys.map((k) => ({ name: `${prefix}${k.name}`, expiration: k.expiration })), list_complete: true };
    },
    commit: (key, changes, options) => call<{ ended: boolean }>(ns, `session:${hash(key)}`, "commit", { changes, ...options }).then((r) => (r.ended ? "ended" : "ok")),
    touch: (key, options) => call(ns, `session:${hash(key)}`, "touch", options).then(() => undefined),
    lock: (key, token, wait) => call<Stored>(ns, `session:${hash(key)}`, "lock", { token, wait }),
    unlock: (key, token) => call(ns, `session:${hash(key)}`, "unlock", { token }).then(() => undefined),
  };
}

function namespaceOf(env: Record<string, unknown>): Required<SessionStore> {
  const ns = env.SESSIONS as Namespace | undefined;
  if (!ns || typeof ns.idFromName !== "function") {
    throw new SessionConfigError('the Durable Object session store needs SESSIONS bound to a Durable Object namespace with class_name = "KilnSessionStore"');
  }
  return objectStore(ns);
}

/** What the generated entry passes to createHandler when SESSIONS is a KilnSessionStore namespace. */
export const durableSessions: SessionSupport = /* @__PURE__ */ createSessions({ store: namespaceOf });

interface Storage {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  deleteAll(): Promise<void>;
  list<T>(options: { prefix: string }): Promise<Map<string, T>>;
  setAlarm(ms: number): Promise<void>;
}

interface Waiter {
  token: string;
  grant: (granted: boolean) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * One session (or one user's index of sessions). Export it from the Worker (kiln build does,
 * when wrangler.toml binds it) and declare it in a `new_sqlite_classes` migration.
 */
export class KilnSessionStore {
  #storage: Storage;
  #holder: { token: string; until: number } | undefined;
  #queue: Waiter[] = [];
  #leaseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(state: { storage: Storage }, _env?: unknown) {
    this.#storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    const op = new URL(request.url).pathname.slice(1);
    const body = (await request.json()) as Record<string, unknown>;
    switch (op) {
      case "load":
        return Response.json(await this.#state());
      case "put":
        return Response.json({ ended: !(await this.#write(body.text as string, body as unknown as StoreWrite)) });
      case "commit":
        return this.#commit(body.changes as SessionChanges, body as unknown as StoreWrite, body.token as string | undefined);
      case "touch":
        if ((await this.#state()).text !== null) await this.#schedule(body as unknown as StoreWrite);
        return Response.json({});
      case "end":
        return Response.json(await this.#end(body.expiration as number));
      case "lock":
        return this.#lock(body.token as string, body.wait as number);
      case "unlock":
        this.#release(body.token as string);
        return Response.json({});
      case "own":
        await this.#storage.put(`o:${body.hash as string}`, body.expiration);
        await this.#expireAt(body.expiration as number);
        return Response.json({});
      case "list":
        return Response.json(await this.#listed());
    }
    return new Response(`no such operation: ${op}`, { status: 404 });
  }

  /** The record, unless the session ended or nobody visited it by its idle deadline (its alarm may not have run yet). */
  async #state(): Promise<Stored> {
    const [text, revoked, idle] = await Promise.all([this.#storage.get<string>("record"), this.#storage.get<number>("revoked"), this.#storage.get<number>("idle")]);
    const idled = idle !== undefined && idle * 1000 <= Date.now();
    return { text: idled ? null : (text ?? null), revoked: revoked !== undefined };
  }

  /** A whole record (a new session); refused once the session was ended. */
  async #write(text: string, deadlines: StoreWrite): Promise<boolean> {
    if ((await this.#storage.get("revoked")) !== undefined) return false;
    await this.#storage.put("record", text);
    await this.#schedule(deadlines);
    return true;
  }

  /** Per-key merge into the record as stored now: another request's keys stay as it left them. */
  async #commit(changes: SessionChanges, deadlines: StoreWrite, token: string | undefined): Promise<Response> {
    const { text, revoked } = await this.#state();
    // Ended first: a locked request that a logout overtook learns that, not that its lock was lost.
    if (revoked || text === null) {
      if (token !== undefined) this.#release(token);
      return Response.json({ ended: true });
    }
    if (token !== undefined && this.#holder?.token !== token) return new Response("the session lock was lost (its lease ran out)", { status: 409 });
    const record = JSON.parse(text) as { data: Record<string, unknown>; flash: Record<string, unknown>; owner?: string };
    // Defined, not assigned: a key named __proto__ stays plain data.
    for (const [key, value] of Object.entries(changes.set)) Object.defineProperty(record.data, key, { value, enumerable: true, writable: true, configurable: true });
    for (const key of changes.deleted) delete record.data[key];
    for (const key of changes.taken) delete record.flash[key];
    for (const [key, value] of Object.entries(changes.flash)) Object.defineProperty(record.flash, key, { value, enumerable: true, writable: true, configurable: true });
    if (changes.owner !== undefined) record.owner = changes.owner ?? undefined;
    await this.#storage.put("record", JSON.stringify(record));
    await this.#schedule(deadlines);
    if (token !== undefined) this.#release(token);
    return Response.json({ ended: false });
  }

  /** Final at once: the record goes, the mark stays until the deadline, and every waiter learns it. */
  async #end(expiration: number): Promise<Record<string, never>> {
    await this.#storage.put("revoked", expiration);
    await this.#storage.delete("record");
    await this.#expireAt(expiration);
    this.#holder = undefined;
    clearTimeout(this.#leaseTimer);
    for (const waiter of this.#queue.splice(0)) waiter.grant(true);
    return {};
  }

  async #lock(token: string, wait: number): Promise<Response> {
    const granted = await new Promise<boolean>((grant) => {
      // Cleared once granted: a pending timer would keep the object (and its billing) awake.
      const waiter: Waiter = { token, grant: (granted) => (clearTimeout(waiter.timer), grant(granted)) };
      this.#queue.push(waiter);
      waiter.timer = setTimeout(() => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1), grant(false);
      }, wait);
      this.#pump();
    });
    if (!granted) return new Response(`waited ${wait / 1000} s for another request that holds this session`, { status: 423 });
    // Read after the grant: what the previous holder committed is what this one sees.
    return Response.json(await this.#state());
  }

  #release(token: string): void {
    if (this.#holder?.token !== token) return;
    this.#holder = undefined;
    this.#pump();
  }

  /** The next waiter gets the session once nobody holds it, or the holder's lease has run out. */
  #pump(): void {
    const now = Date.now();
    if (this.#holder && this.#holder.until > now) return;
    const next = this.#queue.shift();
    this.#holder = next && { token: next.token, until: now + LEASE };
    clearTimeout(this.#leaseTimer);
    if (!next) return;
    this.#leaseTimer = setTimeout(() => this.#pump(), LEASE);
    next.grant(true);
  }

  async #listed(): Promise<{ name: string; expiration: number }[]> {
    const now = Date.now() / 1000;
    const entries = await this.#storage.list<number>({ prefix: "o:" });
    return [...entries].filter(([, expiration]) => expiration > now).map(([key, expiration]) => ({ name: key.slice(2), expiration }));
  }

  /** The latest absolute deadline this object holds (a user's index holds many), for the alarm. */
  async #expireAt(expiration: number): Promise<void> {
    if (((await this.#storage.get<number>("expires")) ?? 0) >= expiration) return;
    await this.#storage.put("expires", expiration);
    await this.#storage.setAlarm(Math.min(expiration, (await this.#storage.get<number>("idle")) ?? Infinity) * 1000);
  }

  /** A visit moves the idle deadline; the alarm runs at whichever deadline comes first. */
  async #schedule({ expiration, idle }: StoreWrite): Promise<void> {
    const expires = Math.max(expiration, (await this.#storage.get<number>("expires")) ?? 0);
    await this.#storage.put("expires", expires);
    await this.#storage.put("idle", idle);
    await this.#storage.setAlarm(Math.min(expires, idle) * 1000);
  }

  /** Storage never outlives its sessions: everything goes at the first deadline passed. */
  async alarm(): Promise<void> {
    const [expires, idle] = await Promise.all([this.#storage.get<number>("expires"), this.#storage.get<number>("idle")]);
    const due = Math.min(expires ?? 0, idle ?? Infinity) * 1000;
    if (due > Date.now()) return this.#storage.setAlarm(due);
    await this.#storage.deleteAll();
  }
}
