// The session rules, in-process: createHandler's fetch in plain Node, with the
// store seam (SessionStore) implemented in memory and a clock the tests move.
// test/sessions.test.ts keeps what needs workerd: the KV binding itself, the
// built entry, the operation counts through real KV.
import { createHash, createHmac } from "node:crypto";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createHandler } from "./handler.js";
import { SessionConfigError, SessionSizeError } from "./index.js";
import type { RouteEntry } from "./router.js";
import { createSessions, type SessionStore } from "./session.js";
import type { Handler } from "./types.js";
import { planRoutes } from "../compiler/route-plan.js";
import { csrf } from "./csrf.js";

const SECRET_A = "a".repeat(16) + "-first-secret-32+chars";
const SECRET_B = "b".repeat(16) + "-second-secret-32+chars";
const DAY = 24 * 3600;

/** The test's time: the session reads now(), and its retry's sleep() moves the clock instead of waiting. */
class Clock {
  ms = Date.UTC(2026, 3, 1, 12);
  slept: number[] = [];
  now = () => this.ms;
  sleep = async (ms: number) => {
    this.slept.push(ms);
    this.ms += ms;
  };
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
  get seconds() {
    return Math.floor(this.ms / 1000);
  }
}

/** A real store for the seam, kept in memory: values expire by the test's clock, and it refuses what KV refuses. */
class MemoryStore implements SessionStore {
  readonly items = new Map<string, { value: string; expiration: number }>();
  constructor(readonly clock: Clock) {}
  async get(key: string): Promise<string | null> {
    const item = this.items.get(key);
    if (item && item.expiration > this.clock.ms / 1000) return item.value;
    this.items.delete(key);
    return null;
  }
  async put(key: string, value: string, { expiration }: { expiration: number }): Promise<void> {
    if (!Number.isInteger(expiration) || expiration < this.clock.seconds + 60) {
      throw new Error(`KV PUT failed: 400 Invalid expiration of ${expiration}: at least 60 seconds from now`);
    }
    if (key.length > 512) throw new Error("KV PUT failed: 414 key too long");
    this.items.set(key, { value, expiration });
  }
  async delete(key: string): Promise<void> {
    this.items.delete(key);
  }
}

/** Holds one kind of store call until opened, to stage a race without sleeping. */
class Gate {
  waiting = 0;
  #open!: () => void;
  #opened = new Promise<void>((resolve) => (this.#open = resolve));
  #watchers: [number, () => void][] = [];
  async pass(): Promise<void> {
    this.waiting++;
    for (const [n, resolve] of this.#watchers) if (this.waiting >= n) resolve();
    await this.#opened;
  }
  /** Resolves once n calls wait here. */
  reached(n: number): Promise<void> {
    return this.waiting >= n ? Promise.resolve() : new Promise((resolve) => this.#watchers.push([n, resolve]));
  }
  open() {
    this.#open();
  }
}

interface Counts {
  reads: number;
  writes: number;
  /** "put session:…", "delete session:…", in the order made. */
  log: string[];
}

type Op = "get" | "put" | "delete";
type Fail = string | ((op: Op, key: string, counts: Counts) => boolean);

function failRules(text: string): (op: Op, key: string) => boolean {
  const rules = text.split(",").filter(Boolean).map((rule) => {
    const [, op, once, prefix = ""] = /^(get|put|delete)(-once)?(?:@(.+))?$/.exec(rule)!;
    return { op, left: once ? 1 : Infinity, prefix };
  });
  return (op, key) => {
    const rule = rules.find((r) => r.op === op && r.left > 0 && key.startsWith(r.prefix));
    if (rule) rule.left--;
    return rule !== undefined;
  };
}

/**
 * One request's view of the store, as test/helpers/kv-probe.js gives workerd's: it counts the
 * calls (a delete is a write) and fails the ones `fail` names, OP[-once][@PREFIX] separated by commas.
 */
function probe(store: SessionStore, counts: Counts, fail: Fail = "", gates: { get?: Gate; put?: Gate } = {}): SessionStore {
  const fails = typeof fail === "function" ? fail : failRules(fail);
  const call = async <T>(op: Op, key: string, run: () => Promise<T>): Promise<T> => {
    counts[op === "get" ? "reads" : "writes"]++;
    if (op !== "get") counts.log.push(`${op} ${key}`);
    await gates[op as "get" | "put"]?.pass();
    if (fails(op, key, counts)) throw new Error(`KV ${op.toUpperCase()} failed: ${op === "get" ? "503 Service Unavailable" : "429 Too Many Requests"}`);
    return run();
  };
  return {
    get: (key, type) => call("get", key, () => store.get(key, type)),
    put: (key, value, options) => call("put", key, () => store.put(key, value, options)),
    delete: (key) => call("delete", key, () => store.delete(key)),
  };
}

/** What /config caught, by type, as an app imports the error from "kiln". */
let caught: unknown;

const visitsOf: Handler = async ({ session }) =>
  Response.json({ visits: (await session.get<number>("visits")) ?? null, user: (await session.get("user")) ?? null });

const ROUTES: RouteEntry[] = [
  { pattern: "/anon", methods: { GET: () => new Response("hello") } },
  {
    pattern: "/count",
    methods: {
      GET: visitsOf,
      POST: async ({ session }) => {
        const visits = ((await session.get<number>("visits")) ?? 0) + 1;
        await session.set("visits", visits);
        return Response.json({ visits });
      },
    },
  },
  {
    pattern: "/flash",
    methods: {
      POST: async ({ session }) => (await session.flash("notice", "Saved!"), new Response("flashed")),
      GET: async ({ session }) => Response.json({ notice: (await session.get("notice")) ?? null }),
    },
  },
  {
    pattern: "/flashes",
    methods: {
      POST: async ({ session }) => (await session.flash("a", 1), await session.flash("b", 2), new Response("flashed")),
      GET: async ({ session }) => Response.json(await session.flashes()),
    },
  },
  { pattern: "/forget", methods: { POST: async ({ session }) => (await session.delete("cart"), new Response("forgot")) } },
  { pattern: "/login", methods: { POST: async ({ session }) => (await session.set("user", "ada"), await session.regenerate(), new Response("logged in")) } },
  { pattern: "/logout", methods: { POST: async ({ session }) => (await session.destroy(), new Response("logged out")) } },
  {
    pattern: "/form",
    methods: {
      GET: async ({ session }) => new Response(await session.csrfToken()),
      POST: async ({ request, session }) => {
        const form = await request.formData();
        if (!(await session.verifyCsrfToken(form.get("csrf")))) return new Response("bad token", { status: 403 });
        await session.set("posted", form.get("text"));
        return new Response("posted");
      },
    },
  },
  {
    pattern: "/big",
    methods: {
      POST: async ({ request, session }) => {
        const n = Number(new URL(request.url).searchParams.get("n") ?? 100_000);
        try {
          await session[new URL(request.url).searchParams.has("flash") ? "flash" : "set"]("blob", "x".repeat(n));
        } catch (err) {
          // Caught by type, as an app imports it from "kiln".
          if (err instanceof SessionSizeError) return new Response(err.message, { status: 413 });
          throw err;
        }
        return new Response("stored");
      },
    },
  },
  { pattern: "/proto", methods: { GET: async ({ session }) => Response.json({ proto: (await session.get("__proto__")) ?? null }) } },
  {
    pattern: "/config",
    methods: {
      GET: async ({ session }) => {
        try {
          await session.get("x");
          caught = undefined;
        } catch (err) {
          caught = err instanceof SessionConfigError ? err.message : err;
        }
        return new Response("the app's own answer");
      },
    },
  },
];

const EC = { waitUntil() {}, passThroughOnException() {} };
const counted = new WeakMap<Response, Counts>();

/** Store calls a response's request made. */
const kv = (res: Response) => {
  const { reads, writes } = counted.get(res)!;
  return { reads, writes };
};
const logOf = (res: Response) => counted.get(res)!.log;

interface Fetch extends RequestInit {
  /** Store calls to fail: probe's rules, or a test of each call. */
  fail?: Fail;
  gates?: { get?: Gate; put?: Gate };
}

/** An app on its own clock and store; apps made with `share` use the other's store and clock (one KV namespace, other vars). */
function makeApp(vars: Record<string, unknown> = {}, share?: { clock: Clock; store: MemoryStore }) {
  const clock = share?.clock ?? new Clock();
  const store = share?.store ?? new MemoryStore(clock);
  // As kiln build makes it for an app with POST handlers: with the cross-site check.
  const handler = createHandler(planRoutes(ROUTES), { sessions: createSessions({ now: clock.now, sleep: clock.sleep }), csrf });
  async function fetch(path: string, { fail, gates, ...init }: Fetch = {}): Promise<Response> {
    const counts: Counts = { reads: 0, writes: 0, log: [] };
    const env = { SESSION_SECRET: SECRET_A, SESSIONS: probe(store, counts, fail, gates), ...vars };
    const res = await handler.fetch(new Request(new URL(path, "http://localhost"), init), env, EC);
    counted.set(res, counts);
    return res;
  }
  return { clock, store, fetch };
}
type App = ReturnType<typeof makeApp>;

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  expect(printed, "console output that no assertion took").toEqual([]);
});
/** What kiln printed since the last call; the test asserts on it. */
function takePrinted(): string[] {
  const out = printed;
  printed = [];
  return out;
}

function cookieOf(res: Response): string {
  const header = res.headers.get("set-cookie") ?? "";
  const match = /kiln_session=([^;]*)/.exec(header);
  if (!match) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  return `kiln_session=${match[1]}`;
}

const idOf = (cookie: string) => cookie.split("=")[1].split(".")[0];
const hash = (id: string) => createHash("sha256").update(id).digest("hex");
const recordKey = (id: string) => `session:${hash(id)}`;
const revokedKey = (id: string) => `revoked:${hash(id)}`;
const hmac = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest("base64url");

/** A cookie as kiln writes it, made here with node:crypto: for ids and times kiln would not pick. */
function forgeCookie(secret: string, issued: number, id = "forgedforgedforgedforged"): string {
  const payload = `${id}.${issued.toString(36)}`;
  return `kiln_session=${payload}.${hmac(secret, `kiln_session=${payload}`)}`;
}

/** Puts a record in the store as kiln writes one, under a forged id. */
function plant(app: App, id: string, data: Record<string, unknown>, deadline = app.clock.ms + 3600_000): void {
  const created = app.clock.ms;
  app.store.items.set(recordKey(id), { value: JSON.stringify({ data, flash: {}, created, deadline }), expiration: Math.floor(deadline / 1000) });
}

async function visits(app: App, cookie: string): Promise<unknown> {
  const res = await app.fetch("/count", { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { visits: unknown }).visits;
}

const newSession = async (app: App) => cookieOf(await app.fetch("/count", { method: "POST" }));

/** What the store holds for a session: its record's data and whether it is marked as ended. */
function stored(app: App, cookie: string): { data: unknown; revoked: boolean } {
  const record = app.store.items.get(recordKey(idOf(cookie)));
  return { data: record ? JSON.parse(record.value).data : null, revoked: app.store.items.has(revokedKey(idOf(cookie))) };
}

describe("lazy: the store only when the session is used and changed", () => {
  it("1,000 anonymous requests make no store call, no record and no cookie", async () => {
    const app = makeApp();
    for (let i = 0; i < 500; i++) {
      for (const path of ["/anon", "/count"]) {
        const res = await app.fetch(path);
        expect(kv(res)).toEqual({ reads: 0, writes: 0 });
        expect(res.headers.has("set-cookie")).toBe(false);
      }
    }
    expect(app.store.items.size).toBe(0);
  });

  it("a request that never touches the session reads nothing, even with a cookie", async () => {
    const app = makeApp();
    const res = await app.fetch("/anon", { headers: { cookie: await newSession(app) } });
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(res.headers.has("cache-control")).toBe(false);
  });

  it("a read-only request costs two reads and no write, sends no Set-Cookie, and is private", async () => {
    const app = makeApp();
    const res = await app.fetch("/count", { headers: { cookie: await newSession(app) } });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("vary")).toBe("Cookie");
    expect(await res.json()).toEqual({ visits: 1, user: null });
  });

  it("a change costs one write; the cookie is HttpOnly, SameSite=Lax, Path=/, and lives to the deadline", async () => {
    const app = makeApp();
    const first = await app.fetch("/count", { method: "POST" });
    expect(kv(first)).toEqual({ reads: 0, writes: 1 });
    expect(first.headers.get("set-cookie")).toBe(`${cookieOf(first)}; Max-Age=${7 * DAY}; Path=/; HttpOnly; SameSite=Lax`);
    const second = await app.fetch("/count", { method: "POST", headers: { cookie: cookieOf(first) } });
    expect(kv(second)).toEqual({ reads: 3, writes: 1 });
    expect(await second.json()).toEqual({ visits: 2 });
  });

  it("sets Secure on https only", async () => {
    const app = makeApp();
    expect((await app.fetch("https://shop.example/count", { method: "POST" })).headers.get("set-cookie")).toMatch(/; Secure/);
    expect((await app.fetch("http://shop.example/count", { method: "POST" })).headers.get("set-cookie")).not.toMatch(/Secure/);
  });

  it("deleting a key the session does not hold writes nothing", async () => {
    const app = makeApp();
    const res = await app.fetch("/forget", { method: "POST", headers: { cookie: await newSession(app) } });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
  });
});

describe("the id, its signature and its record", () => {
  it("ids are 144 random bits (24 base64url characters) and never repeat", async () => {
    const app = makeApp();
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) ids.add(idOf(await newSession(app)));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it("signs the cookie's name, the id and the time with HMAC-SHA256 of the first secret", async () => {
    const app = makeApp();
    const [id, issued, signature] = (await newSession(app)).split("=")[1].split(".");
    expect(issued).toBe(app.clock.seconds.toString(36));
    expect(signature).toBe(hmac(SECRET_A, `kiln_session=${id}.${issued}`));
    const otherName = hmac(SECRET_A, `other_cookie=${id}.${issued}`);
    expect(await visits(app, `kiln_session=${id}.${issued}.${otherName}`)).toBe(null);
  });

  it("keeps the record under a hash of the id, until the absolute deadline, even when written again", async () => {
    const app = makeApp();
    const deadline = app.clock.seconds + 7 * DAY;
    const cookie = await newSession(app);
    expect([...app.store.items.keys()]).toEqual([recordKey(idOf(cookie))]);
    expect(app.store.items.get(recordKey(idOf(cookie)))!.expiration).toBe(deadline);
    app.clock.advance(3600);
    await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(app.store.items.get(recordKey(idOf(cookie)))!.expiration).toBe(deadline);
  });
});

describe("flash, regenerate, destroy", () => {
  it("a flash message is read exactly once, by a later request, and the reading is a write", async () => {
    const app = makeApp();
    const cookie = cookieOf(await app.fetch("/flash", { method: "POST" }));
    const read = await app.fetch("/flash", { headers: { cookie } });
    expect(await read.json()).toEqual({ notice: "Saved!" });
    expect(kv(read)).toEqual({ reads: 3, writes: 1 });
    expect(await (await app.fetch("/flash", { headers: { cookie } })).json()).toEqual({ notice: null });
  });

  it("flashes() gives every waiting message once", async () => {
    const app = makeApp();
    const cookie = cookieOf(await app.fetch("/flashes", { method: "POST" }));
    expect(await (await app.fetch("/flashes", { headers: { cookie } })).json()).toEqual({ a: 1, b: 2 });
    const again = await app.fetch("/flashes", { headers: { cookie } });
    expect(await again.json()).toEqual({});
    expect(kv(again).writes).toBe(0);
  });

  it("regenerate saves the data under a new id first, then marks the old id ended, then deletes its record", async () => {
    const app = makeApp();
    const old = await newSession(app);
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old } });
    const fresh = cookieOf(res);
    expect(idOf(fresh)).not.toBe(idOf(old));
    expect(logOf(res)).toEqual([`put ${recordKey(idOf(fresh))}`, `put ${revokedKey(idOf(old))}`, `delete ${recordKey(idOf(old))}`]);
    expect(kv(res)).toEqual({ reads: 2, writes: 3 });
    expect(await (await app.fetch("/count", { headers: { cookie: fresh } })).json()).toEqual({ visits: 1, user: "ada" });
    expect(stored(app, old)).toEqual({ data: null, revoked: true });
    expect(await visits(app, old)).toBe(null);
  });

  it("destroy marks the id ended, deletes the record, and clears the cookie with the same Path", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie } });
    expect(logOf(res)).toEqual([`put ${revokedKey(idOf(cookie))}`, `delete ${recordKey(idOf(cookie))}`]);
    expect(res.headers.get("set-cookie")).toBe("kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    expect(app.store.items.get(revokedKey(idOf(cookie)))!.expiration).toBe(app.clock.seconds + 7 * DAY);
    expect(await visits(app, cookie)).toBe(null);
  });

  it("a record that comes back after a logout (a write from a location that had not seen it) opens nothing", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const before = app.store.items.get(recordKey(idOf(cookie)))!;
    await app.fetch("/logout", { method: "POST", headers: { cookie } });
    app.store.items.set(recordKey(idOf(cookie)), before);
    expect(await visits(app, cookie)).toBe(null);
    expect(idOf(cookieOf(await app.fetch("/count", { method: "POST", headers: { cookie } })))).not.toBe(idOf(cookie));
  });

  it("a change that loaded the session before a logout and writes after it deletes its write and clears the cookie", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const held = new Gate();
    const change = app.fetch("/count", { method: "POST", headers: { cookie }, gates: { put: held } });
    await held.reached(1);
    expect((await app.fetch("/logout", { method: "POST", headers: { cookie } })).status).toBe(200);
    held.open();
    const res = await change;
    expect(await res.json()).toEqual({ visits: 2 });
    expect(res.headers.get("set-cookie")).toBe("kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    expect(stored(app, cookie)).toEqual({ data: null, revoked: true });
  });

  it("50 changes that all loaded the same state: each saves, and the last write wins", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const reads = new Gate();
    const all = Array.from({ length: 50 }, () => app.fetch("/count", { method: "POST", headers: { cookie }, gates: { get: reads } }));
    await reads.reached(100); // each request's record and mark
    reads.open();
    const results = await Promise.all(all);
    expect(await Promise.all(results.map((r) => r.json()))).toEqual(Array(50).fill({ visits: 2 }));
    expect(results.reduce((n, r) => n + kv(r).writes, 0)).toBe(50);
    expect(stored(app, cookie)).toEqual({ data: { visits: 2 }, revoked: false });
  });
});

describe("bad cookies are anonymous sessions, never a 500", () => {
  const app = makeApp();
  let good = "";
  beforeAll(async () => {
    good = await newSession(app);
  });
  const value = () => good.split("=")[1];
  const cases: [string, () => string][] = [
    ["tampered signature", () => `kiln_session=${value().slice(0, -2)}${value().endsWith("AA") ? "BB" : "AA"}`],
    ["tampered id", () => `kiln_session=${value().startsWith("A") ? "B" : "A"}${value().slice(1)}`],
    ["truncated", () => `kiln_session=${value().slice(0, 30)}`],
    ["empty", () => "kiln_session="],
    ["oversized", () => `kiln_session=${"A".repeat(5000)}`],
    ["not base64", () => `kiln_session=${"!".repeat(24)}.abc.${"*".repeat(43)}`],
    ["duplicated", () => `${good}; ${good}`],
    ["garbage", () => "kiln_session=\"%E0%A4%A\"; x=\u00ff\u00fe; =; kiln_session"],
    ["percent garbage", () => "kiln_session=%%%; ;;=;"],
    ["percent-encoded dots", () => good.replace(/\./g, "%2E")],
  ];
  it.each(cases)("%s", async (_, cookie) => {
    expect(await visits(app, good)).toBe(1);
    const res = await app.fetch("/count", { headers: { cookie: cookie() } });
    expect(await res.json()).toEqual({ visits: null, user: null });
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
  });

  it("a signed cookie whose record is gone is not adopted: a change starts a new id", async () => {
    const app = makeApp();
    const cookie = forgeCookie(SECRET_A, app.clock.seconds);
    expect(await visits(app, cookie)).toBe(null);
    expect(idOf(cookieOf(await app.fetch("/count", { method: "POST", headers: { cookie } })))).not.toBe(idOf(cookie));
  });

  it.each([
    ["not JSON", "{"],
    ["data an array", '{"data":[],"flash":{},"created":1,"deadline":9e15}'],
    ["no deadline", '{"data":{"visits":1},"flash":{},"created":1}'],
  ])("a record that does not parse (%s) is not adopted", async (_, text) => {
    const app = makeApp();
    const cookie = forgeCookie(SECRET_A, app.clock.seconds);
    app.store.items.set(recordKey(idOf(cookie)), { value: text, expiration: app.clock.seconds + DAY });
    expect(await visits(app, cookie)).toBe(null);
  });

  it("a record that tries __proto__ tricks stays plain data, and no prototype changes", async () => {
    const app = makeApp();
    const cookie = forgeCookie(SECRET_A, app.clock.seconds);
    const now = app.clock.ms;
    const text = `{"data":{"__proto__":{"user":"admin"},"visits":3},"flash":{"__proto__":{"x":1}},"created":${now},"deadline":${now + 3600_000}}`;
    app.store.items.set(recordKey(idOf(cookie)), { value: text, expiration: app.clock.seconds + DAY });
    expect(await (await app.fetch("/count", { headers: { cookie } })).json()).toEqual({ visits: 3, user: null });
    // A flash is read before data of the same name: both stayed values under the key "__proto__".
    expect(await (await app.fetch("/proto", { headers: { cookie } })).json()).toEqual({ proto: { x: 1 } });
    // The record was parsed in this realm, so this is the prototype a pollution would reach.
    expect(Object.prototype).not.toHaveProperty("user");
    expect(Object.prototype).not.toHaveProperty("x");
  });
});

describe("time, through the clock", () => {
  it("a cookie is accepted up to the idle timeout and anonymous one second after", async () => {
    const app = makeApp({ SESSION_IDLE_TIMEOUT: "600" });
    const cookie = await newSession(app);
    app.clock.advance(600);
    expect(await visits(app, cookie)).toBe(1);
    app.clock.advance(1);
    expect(await visits(app, cookie)).toBe(null);
  });

  it("an active cookie is reissued, with no write, once a quarter of the idle timeout has passed", async () => {
    const app = makeApp({ SESSION_IDLE_TIMEOUT: "600" });
    const cookie = await newSession(app);
    app.clock.advance(150);
    expect((await app.fetch("/count", { headers: { cookie } })).headers.has("set-cookie")).toBe(false);
    app.clock.advance(1);
    const res = await app.fetch("/count", { headers: { cookie } });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(cookieOf(res)).toBe(forgeCookie(SECRET_A, app.clock.seconds, idOf(cookie)));
    expect(res.headers.get("set-cookie")).toMatch(`Max-Age=${7 * DAY - 151};`);
    app.clock.advance(500); // 651 s after the first cookie, 500 after the second
    expect(await visits(app, cookieOf(res))).toBe(1);
  });

  it("the session ends at its absolute deadline, however active", async () => {
    const app = makeApp({ SESSION_MAX_AGE: "3600" });
    const cookie = await newSession(app);
    app.clock.advance(3599);
    const res = await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(res.headers.get("set-cookie")).toMatch(/Max-Age=1;/);
    app.clock.advance(1);
    expect(await visits(app, cookieOf(res))).toBe(null);
  });

  it("a record past its deadline is anonymous even while the store still holds it", async () => {
    const app = makeApp();
    const cookie = forgeCookie(SECRET_A, app.clock.seconds);
    plant(app, idOf(cookie), { visits: 9 }, app.clock.ms);
    app.store.items.get(recordKey(idOf(cookie)))!.expiration = app.clock.seconds + DAY;
    expect(await visits(app, cookie)).toBe(null);
  });

  it("a cookie issued more than a minute in the future is refused; clock skew within it is not", async () => {
    const app = makeApp();
    plant(app, "skewedskewedskewedskewed", { visits: 4 });
    expect(await visits(app, forgeCookie(SECRET_A, app.clock.seconds + 60, "skewedskewedskewedskewed"))).toBe(4);
    expect(await visits(app, forgeCookie(SECRET_A, app.clock.seconds + 61, "skewedskewedskewedskewed"))).toBe(null);
  });
});

describe("secrets", () => {
  it("the first secret signs, all verify, and a retired secret's cookie is anonymous", async () => {
    const onlyA = makeApp();
    const rotated = makeApp({ SESSION_SECRET: `${SECRET_B}, ${SECRET_A}` }, onlyA);
    const onlyB = makeApp({ SESSION_SECRET: SECRET_B }, onlyA);
    const signedByA = await newSession(onlyA);
    const [id, issued, signature] = signedByA.split("=")[1].split(".");
    expect(signature).toBe(hmac(SECRET_A, `kiln_session=${id}.${issued}`));
    const signedByB = await newSession(rotated);
    expect(signedByB).toBe(forgeCookie(SECRET_B, onlyA.clock.seconds, idOf(signedByB)));
    expect(await visits(rotated, signedByA)).toBe(1); // A still verifies while it is listed
    expect(await visits(onlyB, signedByB)).toBe(1);
    expect(await visits(onlyB, signedByA)).toBe(null); // retired: anonymous
    expect(await visits(onlyA, signedByB)).toBe(null);
  });

  it.each([
    ["a missing secret", { SESSION_SECRET: undefined }, "SESSION_SECRET is not set: put one in .dev.vars for wrangler dev, and `wrangler secret put SESSION_SECRET` for deploys"],
    ["a short secret", { SESSION_SECRET: "too-short" }, "SESSION_SECRET: secret 1 is 9 characters; use at least 32"],
    ["a short second secret", { SESSION_SECRET: `${SECRET_A},short` }, "SESSION_SECRET: secret 2 is 5 characters; use at least 32"],
    ["no store", { SESSIONS: undefined }, "context.session needs a KV namespace bound as SESSIONS ([[kv_namespaces]] in wrangler.toml)"],
  ])("%s is a SessionConfigError naming the setting, and pages without the session still work", async (_, vars, message) => {
    const broken = makeApp(vars);
    const res = await broken.fetch("/config");
    expect(caught).toBe(message);
    // Caught or not, the set-up is broken: the response is a 500, and the error is logged.
    expect(res.status).toBe(500);
    expect(takePrinted()).toEqual([`SessionConfigError: ${message}`]);
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
    expect(await (await broken.fetch("/anon")).text()).toBe("hello");
  });
});

describe("settings", () => {
  it.each([
    ["SESSION_MAX_BYTES", "abc", 'SESSION_MAX_BYTES must be a whole number of bytes from 1024 to 26214400 (got "abc")'],
    ["SESSION_MAX_BYTES", "0x10000", 'SESSION_MAX_BYTES must be a whole number of bytes from 1024 to 26214400 (got "0x10000")'],
    ["SESSION_MAX_BYTES", "1023", 'SESSION_MAX_BYTES must be a whole number of bytes from 1024 to 26214400 (got "1023")'],
    ["SESSION_IDLE_TIMEOUT", "1e5", 'SESSION_IDLE_TIMEOUT must be a whole number of seconds from 60 to 34560000 (got "1e5")'],
    ["SESSION_IDLE_TIMEOUT", 59, "SESSION_IDLE_TIMEOUT must be a whole number of seconds from 60 to 34560000 (got 59)"],
    ["SESSION_MAX_AGE", "86400.5", 'SESSION_MAX_AGE must be a whole number of seconds from 60 to 34560000 (got "86400.5")'],
    ["SESSION_MAX_AGE", "34560001", 'SESSION_MAX_AGE must be a whole number of seconds from 60 to 34560000 (got "34560001")'],
    ["SESSION_MAX_AGE", "", 'SESSION_MAX_AGE must be a whole number of seconds from 60 to 34560000 (got "")'],
  ])("%s = %j is a configuration error, never a limit switched off", async (name, value, message) => {
    const app = makeApp({ [name]: value, DEBUG: "true" });
    const res = await app.fetch("/big", { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain(`SessionConfigError: ${message}`);
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
    expect(takePrinted()).toEqual([expect.stringContaining(message)]);
    expect(await (await app.fetch("/anon")).text()).toBe("hello");
  });

  it("whole numbers in range are used, as digits or as numbers from wrangler.toml", async () => {
    const app = makeApp({ SESSION_MAX_BYTES: "2048", SESSION_MAX_AGE: 3600, SESSION_IDLE_TIMEOUT: "60" });
    expect(await (await app.fetch("/big", { method: "POST" })).text()).toMatch(/over the budget of 2048 \(SESSION_MAX_BYTES\)$/);
    expect((await app.fetch("/count", { method: "POST" })).headers.get("set-cookie")).toMatch(/Max-Age=3600;/);
  });
});

describe("the size budget", () => {
  const SIZE = 1024;
  /** The length of a "blob" string that makes the record exactly SIZE bytes. */
  const fits = (app: App) =>
    SIZE - JSON.stringify({ data: { blob: "" }, flash: {}, created: app.clock.ms, deadline: app.clock.ms + 7 * DAY * 1000 }).length;

  it.each([["set"], ["flash"]])("%s() up to the budget is saved; one byte over throws SessionSizeError and writes nothing", async (how) => {
    const app = makeApp({ SESSION_MAX_BYTES: String(SIZE) });
    const query = how === "flash" ? "&flash" : "";
    const over = await app.fetch(`/big?n=${fits(app) + 1}${query}`, { method: "POST" });
    expect(over.status).toBe(413);
    expect(await over.text()).toBe(`session data would be ${SIZE + 1} bytes after setting "blob", over the budget of ${SIZE} (SESSION_MAX_BYTES)`);
    expect(kv(over).writes).toBe(0);
    const exact = await app.fetch(`/big?n=${fits(app)}${query}`, { method: "POST" });
    expect(exact.status).toBe(200);
    expect(kv(exact).writes).toBe(1);
  });
});

describe("cross-site requests and CSRF tokens", () => {
  it("refuses unsafe cross-site requests that carry the session cookie", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const post = (headers: Record<string, string>) => app.fetch("/count", { method: "POST", headers: { cookie, ...headers } });
    expect((await post({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ origin: "https://evil.example" })).status).toBe(403);
    expect((await post({ "sec-fetch-site": "same-origin", origin: "http://localhost" })).status).toBe(200);
    expect((await post({})).status).toBe(200);
    expect(await visits(app, cookie)).toBe(3);
  });

  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  /** The three other spellings of a 43-character signature (32 bytes): its last character's 2 low bits are unused. */
  const siblings = (text: string) => {
    const at = ALPHABET.indexOf(text.at(-1)!);
    expect(at % 4).toBe(0);
    return ALPHABET.slice(at + 1, at + 4).split("").map((c) => text.slice(0, -1) + c);
  };

  it("accepts only the session's own token, spelled as kiln writes it", async () => {
    const app = makeApp();
    const page = await app.fetch("/form");
    const cookie = cookieOf(page);
    const token = await page.text();
    expect(token).toBe(hmac(SECRET_A, `csrf:${idOf(cookie)}`));
    const post = (csrf: string, c = cookie) => app.fetch("/form", { method: "POST", headers: { cookie: c }, body: new URLSearchParams({ csrf, text: "hi" }) });
    for (const other of siblings(token)) expect((await post(other)).status).toBe(403);
    expect((await post("x".repeat(43))).status).toBe(403);
    expect((await post(token, await newSession(app))).status).toBe(403);
    expect((await post(token)).status).toBe(200);
  });

  it("accepts only the cookie's own spelling of its signature", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    for (const other of siblings(cookie)) expect(await visits(app, other)).toBe(null);
    expect(await visits(app, cookie)).toBe(1);
  });

  const twice: [string, (a: string, b: string) => string][] = [
    ["a space before =", (a, b) => `kiln_session =${a}; kiln_session=${b}`],
    ["spaces around = and the value", (a, b) => `kiln_session=${a}; kiln_session = ${b} `],
    ["a tab", (a, b) => `kiln_session=${a};\tkiln_session\t=${b}`],
    ["the same cookie twice", (a) => `kiln_session=${a}; kiln_session=${a}`],
  ];
  it.each(twice)("the session cookie named twice (%s) is ambiguous: anonymous", async (_, header) => {
    const app = makeApp();
    const [a, b] = [(await newSession(app)).split("=")[1], (await newSession(app)).split("=")[1]];
    expect(await (await app.fetch("/count", { headers: { cookie: header(a, b) } })).json()).toEqual({ visits: null, user: null });
  });

  it("named once, with spaces a cookie parser trims, it is the session cookie", async () => {
    const app = makeApp();
    expect(await visits(app, `other=1; kiln_session = ${(await newSession(app)).split("=")[1]}`)).toBe(1);
  });
});

describe("store faults lose nothing", () => {
  it("a failed read gives the request an anonymous view and a warning; a page that only reads renders", async () => {
    const app = makeApp();
    const res = await app.fetch("/count", { headers: { cookie: await newSession(app) }, fail: "get" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visits: null, user: null });
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(takePrinted()).toEqual([expect.stringMatching(/^kiln: reading the session from KV failed; .*KV GET failed: 503/)]);
  });

  const changes: [string, string, (app: App, cookie: string) => Promise<RequestInit>][] = [
    ["a change", "/count", async () => ({ method: "POST" })],
    ["a login (regenerate)", "/login", async () => ({ method: "POST" })],
    ["a logout (destroy)", "/logout", async () => ({ method: "POST" })],
    ["a delete of a key the stand-in lacks", "/forget", async () => ({ method: "POST" })],
    [
      "a form checked with its CSRF token",
      "/form",
      async (app, cookie) => ({ method: "POST", body: new URLSearchParams({ csrf: await (await app.fetch("/form", { headers: { cookie } })).text(), text: "hi" }) }),
    ],
  ];
  it.each(changes)("%s after a failed read answers 503, writes nothing and keeps the session", async (_, path, init) => {
    const app = makeApp();
    const cookie = await newSession(app);
    const before = stored(app, cookie);
    const res = await app.fetch(path, { ...(await init(app, cookie)), headers: { cookie }, fail: "get" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(kv(res).writes).toBe(0);
    expect(takePrinted()).toEqual([expect.stringContaining("reading the session from KV failed")]);
    expect(stored(app, cookie)).toEqual(before);
  });

  it("a write that fails is retried once, a second later", async () => {
    const app = makeApp();
    const res = await app.fetch("/count", { method: "POST", fail: "put-once" });
    expect(res.status).toBe(200);
    expect(kv(res).writes).toBe(2);
    expect(app.clock.slept).toEqual([1000]);
    expect(takePrinted()).toEqual(["kiln: saving the session failed (attempt 1): Error: KV PUT failed: 429 Too Many Requests"]);
    expect(await visits(app, cookieOf(res))).toBe(1);
  });

  it("a write that keeps failing is a 503, not a pretended save", async () => {
    const app = makeApp();
    const res = await app.fetch("/count", { method: "POST", fail: "put" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(kv(res).writes).toBe(2);
    expect(takePrinted()).toEqual([expect.stringContaining("(attempt 1)"), expect.stringContaining("(attempt 2)")]);
    expect(app.store.items.size).toBe(0);
  });

  it("a login whose new record cannot be saved keeps the old session: 503, nothing deleted", async () => {
    const app = makeApp();
    const old = await newSession(app);
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old }, fail: "put@session:" });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(kv(res)).toEqual({ reads: 2, writes: 2 });
    expect(takePrinted()).toEqual([expect.stringContaining("saving the session failed (attempt 1)"), expect.stringContaining("saving the session failed (attempt 2)")]);
    expect(stored(app, old)).toEqual({ data: { visits: 1 }, revoked: false });
  });

  it("a login that cannot end the old session answers 503 and sends no new cookie", async () => {
    const app = makeApp();
    const old = await newSession(app);
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old }, fail: "put@revoked:" });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(takePrinted()).toEqual([expect.stringContaining("ending the session failed (attempt 1)"), expect.stringContaining("ending the session failed (attempt 2)")]);
    expect(await visits(app, old)).toBe(1);
  });

  it("a logout that cannot mark the session ended answers 503 and the old cookie stays what it was", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie }, fail: "put,delete" });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(logOf(res)).toEqual([`put ${revokedKey(idOf(cookie))}`, `put ${revokedKey(idOf(cookie))}`]);
    expect(takePrinted()).toHaveLength(2);
    expect(stored(app, cookie)).toEqual({ data: { visits: 1 }, revoked: false });
  });

  it("a logout whose delete fails still ends the session it says it cleared", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie }, fail: "delete" });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/^kiln_session=; Max-Age=0/);
    expect(takePrinted()).toEqual([expect.stringContaining("deleting an ended session's record failed (attempt 1)"), expect.stringContaining("(attempt 2)")]);
    expect(stored(app, cookie)).toEqual({ data: { visits: 1 }, revoked: true });
    expect(await visits(app, cookie)).toBe(null);
  });

  it("a change whose check for a logout fails keeps its save, with a warning", async () => {
    const app = makeApp();
    const cookie = await newSession(app);
    const afterWrite = (op: Op, key: string, counts: Counts) => op === "get" && key.startsWith("revoked:") && counts.writes > 0;
    const res = await app.fetch("/count", { method: "POST", headers: { cookie }, fail: afterWrite });
    expect(res.status).toBe(200);
    expect(kv(res)).toEqual({ reads: 3, writes: 1 });
    expect(cookieOf(res)).toBe(forgeCookie(SECRET_A, app.clock.seconds, idOf(cookie)));
    expect(takePrinted()).toEqual([expect.stringContaining("checking the session for a logout after saving it failed")]);
    expect(await visits(app, cookie)).toBe(2);
  });
});
