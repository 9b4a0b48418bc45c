// KilnSessionStore in-process, on an in-memory stand-in for its storage: the
// object's own rules, one at a time (test/session-stores.test.ts runs the real
// object in workerd, end to end).
import { describe, expect, it, vi } from "vitest";
import { createHandler } from "./handler.js";
import { KilnSessionStore, objectStore } from "./session-object.js";
import { createSessions, type SessionChanges } from "./session.js";
import type { Handler } from "./types.js";
import { planRoutes } from "../compiler/route-plan.js";

function memoryStorage() {
  const map = new Map<string, unknown>();
  const storage = {
    alarm: undefined as number | undefined,
    map,
    get: async <T>(key: string) => map.get(key) as T | undefined,
    put: async (key: string, value: unknown) => void map.set(key, value),
    delete: async (key: string) => map.delete(key),
    deleteAll: async () => map.clear(),
    list: async <T>({ prefix }: { prefix: string }) => new Map([...map].filter(([k]) => k.startsWith(prefix))) as Map<string, T>,
    setAlarm: async (ms: number) => void (storage.alarm = ms),
  };
  return storage;
}

const later = Math.floor(Date.now() / 1000) + 3600;
const record = (data: Record<string, unknown>) => JSON.stringify({ data, flash: {}, created: 0, deadline: later * 1000 });
const noChange = { set: {}, deleted: [], flash: {}, taken: [] };

function object() {
  const storage = memoryStorage();
  const store = new KilnSessionStore({ storage });
  const call = async (op: string, body: unknown = {}) => store.fetch(new Request(`https://session.kiln/${op}`, { method: "POST", body: JSON.stringify(body) }));
  const load = async () => (await call("load")).json() as Promise<{ text: string | null; revoked: boolean }>;
  return { storage, store, call, load };
}

describe("KilnSessionStore", () => {
  it("merges a commit key by key into what is stored now", async () => {
    const { call, load } = object();
    await call("put", { text: record({ a: 1, b: 1 }), expiration: later, idle: later });
    await call("commit", { changes: { ...noChange, set: { a: 2 } }, expiration: later, idle: later });
    await call("commit", { changes: { ...noChange, set: { c: 3 }, deleted: ["b"] }, expiration: later, idle: later });
    expect(JSON.parse((await load()).text!).data).toEqual({ a: 2, c: 3 });
  });

  it("keeps a key named __proto__ as plain data", async () => {
    const { call, load } = object();
    await call("put", { text: record({}), expiration: later, idle: later });
    await call("commit", { changes: { ...noChange, set: JSON.parse('{"__proto__": {"admin": true}}') }, expiration: later, idle: later });
    const data = JSON.parse((await load()).text!).data;
    expect(Object.keys(data)).toEqual(["__proto__"]);
  });

  it("refuses every write once the session is ended", async () => {
    const { call, load } = object();
    await call("put", { text: record({ a: 1 }), expiration: later, idle: later });
    await call("end", { expiration: later });
    expect(await (await call("commit", { changes: { ...noChange, set: { a: 2 } }, expiration: later, idle: later })).json()).toEqual({ ended: true });
    expect(await (await call("put", { text: record({ a: 3 }), expiration: later, idle: later })).json()).toEqual({ ended: true });
    expect(await load()).toEqual({ text: null, revoked: true });
  });

  it("lets one locker at a time through: the next reads what the first committed", async () => {
    const { call } = object();
    await call("put", { text: record({ n: 0 }), expiration: later, idle: later });
    await call("lock", { token: "one", wait: 1000 });
    let second: Response | undefined;
    const waiting = call("lock", { token: "two", wait: 1000 }).then((r) => (second = r));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBeUndefined();
    await call("commit", { changes: { ...noChange, set: { n: 1 } }, expiration: later, idle: later, token: "one" });
    await waiting;
    expect(JSON.parse(((await second!.json()) as { text: string }).text).data).toEqual({ n: 1 });
  });

  it("answers 423 to a locker that waited its whole wait, and 409 to a commit whose lock is not held", async () => {
    const { call } = object();
    await call("put", { text: record({}), expiration: later, idle: later });
    await call("lock", { token: "one", wait: 1000 });
    expect((await call("lock", { token: "two", wait: 30 })).status).toBe(423);
    expect((await call("commit", { changes: noChange, expiration: later, idle: later, token: "two" })).status).toBe(409);
  });

  it("wakes a waiting locker when the session ends, and tells it so", async () => {
    const { call } = object();
    await call("put", { text: record({}), expiration: later, idle: later });
    await call("lock", { token: "one", wait: 1000 });
    const waiting = call("lock", { token: "two", wait: 1000 });
    await call("end", { expiration: later });
    expect(await (await waiting).json()).toEqual({ text: null, revoked: true });
  });

  it("sets its alarm at the latest deadline, and the alarm deletes everything once it has passed", async () => {
    const { call, storage, store } = object();
    await call("put", { text: record({}), expiration: later, idle: later });
    expect(storage.alarm).toBe(later * 1000);
    await store.alarm();
    expect(storage.map.size).toBeGreaterThan(0); // not yet
    storage.map.set("expires", Math.floor(Date.now() / 1000) - 1);
    await store.alarm();
    expect(storage.map.size).toBe(0);
  });

  it("reads a session nobody visited by its idle deadline as gone; a visit (touch) moves the deadline and the alarm", async () => {
    const { call, load, storage, store } = object();
    const soon = Math.floor(Date.now() / 1000) + 60;
    await call("put", { text: record({ a: 1 }), expiration: later, idle: soon });
    expect(storage.alarm).toBe(soon * 1000);
    await call("touch", { expiration: later, idle: soon + 600 });
    expect(storage.alarm).toBe((soon + 600) * 1000);
    expect((await load()).text).not.toBe(null);
    storage.map.set("idle", Math.floor(Date.now() / 1000) - 1);
    expect(await load()).toEqual({ text: null, revoked: false });
    expect(await (await call("commit", { changes: { ...noChange, set: { a: 2 } }, expiration: later, idle: later })).json()).toEqual({ ended: true });
    await store.alarm();
    expect(storage.map.size).toBe(0);
  });

  it("lists a user's sessions, without those past their deadline", async () => {
    const { call } = object();
    await call("own", { hash: "aa", expiration: later });
    await call("own", { hash: "bb", expiration: Math.floor(Date.now() / 1000) - 1 });
    expect(await (await call("list")).json()).toEqual([{ name: "aa", expiration: later }]);
  });
});

/** A namespace of real KilnSessionStore objects in this process; `commits` records what each commit sent. */
function namespace() {
  const objects = new Map<string, KilnSessionStore>();
  const commits: SessionChanges[] = [];
  /** Every call's operation and body; an operation named in `failing` answers 500, as an object that throws. */
  const calls: { op: string; body: Record<string, unknown> }[] = [];
  const failing = new Set<string>();
  const ns = {
    idFromName: (name: string) => name,
    get: (name: unknown) => ({
      async fetch(url: string, init?: RequestInit) {
        const key = String(name);
        if (!objects.has(key)) objects.set(key, new KilnSessionStore({ storage: memoryStorage() }));
        if (url.endsWith("/commit")) commits.push((JSON.parse(String(init?.body)) as { changes: SessionChanges }).changes);
        const op = url.slice(url.lastIndexOf("/") + 1);
        calls.push({ op, body: JSON.parse(String(init?.body)) as Record<string, unknown> });
        if (failing.has(op)) return new Response("the object threw", { status: 500 });
        return objects.get(key)!.fetch(new Request(url, init));
      },
    }),
  };
  return { ns, commits, calls, failing };
}

const SECRET = "x".repeat(16) + "-object-secret-32+chars";
const route = (pattern: string, POST: Handler) => ({ pattern, methods: { POST } });

function app() {
  const { ns, commits, calls, failing } = namespace();
  // Near the real time: the objects keep their own clock (Date.now).
  const clock = { ms: Math.floor(Date.now() / 1000) * 1000 };
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const handler = createHandler(planRoutes(
    [
      route("/set", async ({ request, session }) => {
        const { key, value } = (await request.json()) as { key: string; value: unknown };
        await session.set(key, value);
        return new Response("ok");
      }),
      route("/late-lock", async ({ session }) => {
        await session.set("a", 1);
        await session.lock();
        return new Response("ok");
      }),
      route("/read", async ({ session }) => new Response(String(await session.get("a")))),
      route("/logout", async ({ session }) => {
        await session.destroy();
        return new Response("ok");
      }),
      route("/wait-then-lock", async ({ session }) => {
        await session.get("a");
        await gate;
        await session.lock();
        await session.set("a", "after the logout");
        return Response.json({ a: (await session.get("a")) ?? null });
      }),
    ]),
    { sessions: createSessions({ store: () => objectStore(ns), now: () => clock.ms }) },
  );
  const env = { SESSION_SECRET: SECRET, DEBUG: "true", KILN_LOG: "off" };
  const ctx = { waitUntil() {}, passThroughOnException() {} };
  const post = (path: string, cookie?: string, body: unknown = {}) =>
    handler.fetch(new Request(`https://app.test${path}`, { method: "POST", headers: cookie ? { cookie } : {}, body: JSON.stringify(body) }), env, ctx);
  return { post, commits, calls, failing, clock, open };
}

describe("Session on the object store", () => {
  it("sends a commit only the keys the request changed, never the whole record", async () => {
    const { post, commits } = app();
    const first = await post("/set", undefined, { key: "a", value: 1 });
    const cookie = /kiln_session=[^;]*/.exec(first.headers.get("set-cookie")!)![0];
    await post("/set", cookie, { key: "b", value: 2 });
    expect(commits).toEqual([{ set: { b: 2 }, deleted: [], flash: {}, taken: [] }]);
  });

  it("lock() after a change is a TypeError: the change would be made to what the lock did not read", async () => {
    const { post } = app();
    const cookie = /kiln_session=[^;]*/.exec((await post("/set", undefined, { key: "a", value: 1 })).headers.get("set-cookie")!)![0];
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await post("/late-lock", cookie);
    expect(String(printed.mock.calls[0]?.[0])).toContain("session.lock(): call it before changing the session");
    printed.mockRestore();
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("session.lock(): call it before changing the session");
  });
});

describe("a lock that a logout overtook", () => {
  it("gives the request an anonymous session that writes nothing, and clears its cookie", async () => {
    const { post, commits, open } = app();
    const cookie = /kiln_session=[^;]*/.exec((await post("/set", undefined, { key: "a", value: 1 })).headers.get("set-cookie")!)![0];
    const slow = post("/wait-then-lock", cookie);
    await new Promise((r) => setTimeout(r, 10));
    await post("/logout", cookie);
    open();
    const res = await slow;
    expect(res.headers.get("set-cookie")).toMatch(/^kiln_session=;.*Max-Age=0/);
    expect(commits).toEqual([]);
    const again = await post("/wait-then-lock", cookie);
    expect(again.headers.get("set-cookie")).toMatch(/^kiln_session=[^;]/); // a new session, never the old id
  });
});

describe("the idle deadline, enforced by the object too", () => {
  it("each write sends it, a minute past the cookie's; a visit that reissues the cookie moves it; if that fails, the cookie is not reissued", async () => {
    const { post, calls, failing, clock } = app();
    const cookie = /kiln_session=[^;]*/.exec((await post("/set", undefined, { key: "a", value: 1 })).headers.get("set-cookie")!)![0];
    const put = calls.find((c) => c.op === "put")!;
    expect(put.body.idle).toBe(clock.ms / 1000 + 86400 + 60);
    clock.ms += 21_601_000; // past a quarter of the idle timeout: the cookie is due again
    const visit = await post("/read", cookie);
    expect(visit.headers.get("set-cookie")).toMatch(/^kiln_session=[^;]/);
    expect(calls.at(-1)).toEqual({ op: "touch", body: { expiration: put.body.expiration, idle: clock.ms / 1000 + 86400 + 60 } });
    failing.add("touch");
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const failed = await post("/read", cookie);
    expect(failed.status).toBe(200);
    expect(failed.headers.has("set-cookie")).toBe(false);
    expect(String(warned.mock.calls[0]?.[0])).toContain("moving the session's idle deadline failed");
    warned.mockRestore();
  });
});
