// login, logout, currentUser, safeNext, the access check and rateLimit's
// faults, in-process: createHandler in Node over an in-memory session store
// that counts its calls. test/auth.test.ts runs them inside workerd, with KV
// and the real KilnRateLimiter.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { access, currentUser, login, logout, safeNext } from "./auth.js";
import { createHandler } from "./handler.js";
import { basicAuth } from "./http-auth.js";
import { rateLimit } from "./rate-limit.js";
import type { RouteEntry } from "./router.js";
import { createSessions, type SessionStore } from "./session.js";
import type { Handler } from "./types.js";
import { planRoutes } from "../compiler/route-plan.js";

const SECRET = "auth-unit-secret-of-at-least-32-chars";

class CountingStore implements SessionStore {
  items = new Map<string, { value: string; expiration: number }>();
  reads = 0;
  writes = 0;
  failList = false;
  async get(key: string) {
    this.reads++;
    return this.items.get(key)?.value ?? null;
  }
  async put(key: string, value: string, { expiration }: { expiration: number }) {
    this.writes++;
    this.items.set(key, { value, expiration });
  }
  async delete(key: string) {
    this.writes++;
    this.items.delete(key);
  }
  async list({ prefix }: { prefix: string }) {
    this.reads++;
    if (this.failList) throw new Error("KV LIST failed: 503");
    const keys = [...this.items].filter(([k]) => k.startsWith(prefix)).map(([name, { expiration }]) => ({ name, expiration }));
    return { keys, list_complete: true };
  }
}

const json = (value: unknown) => Response.json(value ?? null);
const ROUTES: RouteEntry[] = [
  { pattern: "/plain", methods: { GET: () => new Response("plain") } },
  { pattern: "/me", methods: { GET: async (c) => json(await currentUser(c)) } },
  { pattern: "/members", declares: { access: "user" }, methods: { GET: () => new Response("members") } },
  { pattern: "/whoami", declares: { access: "user" }, methods: { GET: async (c) => json(await currentUser(c)) } },
  { pattern: "/admin", declares: { access: { role: "admin" } }, methods: { GET: () => new Response("admin") } },
  { pattern: "/products", declares: { access: { GET: "public", POST: { role: "admin" } } }, methods: { GET: () => new Response("list"), POST: () => new Response("added") } },
  { pattern: "/notes", declares: { access: { GET: "public" } }, methods: { GET: () => new Response("notes"), DELETE: () => new Response("deleted") } },
  { pattern: "/login", methods: { POST: async (c) => json(await login(c, { id: new URL(c.request.url).searchParams.get("id")!, roles: ["admin"] })) } },
  { pattern: "/staging", methods: { GET: [basicAuth({ username: "team", password: (env: { STAGING_PASSWORD?: string }) => env.STAGING_PASSWORD }), () => new Response("staging")] } },
  { pattern: "/renew", methods: { POST: async (c) => (await c.session.regenerate(), new Response("renewed")) } },
  { pattern: "/bad-login", methods: { POST: async (c) => json(await login(c, { id: "" })) } },
  { pattern: "/logout", methods: { POST: async (c) => (await logout(c, { everywhere: true }), new Response("bye")) } },
  { pattern: "/limited", methods: { POST: async (c) => json(await rateLimit(c, "k", { limit: 1, windowSeconds: 60 })) } },
];

function makeApp(env: Record<string, unknown> = {}) {
  const store = new CountingStore();
  const handler = createHandler(planRoutes(ROUTES), { sessions: createSessions({ store: () => store }), access });
  const fetch = (path: string, init: RequestInit = {}) =>
    handler.fetch(new Request(new URL(path, "http://localhost"), init), { SESSION_SECRET: SECRET, ...env }, { waitUntil() {}, passThroughOnException() {} });
  return { store, fetch };
}

const cookieOf = (res: Response) => res.headers.get("set-cookie")!.split(";")[0];

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((...args) => void printed.push(args.map(String).join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
  expect(printed, "console output that no assertion took").toEqual([]);
});

describe("what it costs", () => {
  it("a logged-in visitor's request that never asks reads nothing; currentUser, the access check, or both cost the session's two reads, no more", async () => {
    const app = makeApp();
    const cookie = cookieOf(await app.fetch("/login?id=ada", { method: "POST" }));
    for (const [path, reads] of [["/plain", 0], ["/me", 2], ["/members", 2], ["/admin", 2], ["/whoami", 2]] as const) {
      app.store.reads = app.store.writes = 0;
      const res = await app.fetch(path, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      expect({ path, reads: app.store.reads, writes: app.store.writes }).toEqual({ path, reads, writes: 0 });
    }
  });

  it("a visitor without a cookie is refused without a store call", async () => {
    const app = makeApp();
    const res = await app.fetch("/members", { headers: { accept: "application/json" } });
    expect(res.status).toBe(401);
    expect(app.store.reads + app.store.writes).toBe(0);
  });
});

describe("login and logout", () => {
  it("login lists the new session under its user, so logout everywhere can find it", async () => {
    const app = makeApp();
    await app.fetch("/login?id=ada", { method: "POST" });
    expect([...app.store.items.keys()].filter((k) => k.startsWith("owned:"))).toHaveLength(1);
  });

  it("a session id the app renews after the login is listed too, so logout everywhere ends it", async () => {
    const app = makeApp();
    const phone = cookieOf(await app.fetch("/login?id=ada", { method: "POST" }));
    const renewed = cookieOf(await app.fetch("/renew", { method: "POST", headers: { cookie: phone } }));
    const laptop = cookieOf(await app.fetch("/login?id=ada", { method: "POST" }));
    const other = cookieOf(await app.fetch("/login?id=bob", { method: "POST" }));
    expect((await app.fetch("/logout", { method: "POST", headers: { cookie: laptop } })).status).toBe(200);
    for (const cookie of [phone, renewed, laptop]) expect(await (await app.fetch("/me", { headers: { cookie } })).json()).toBe(null);
    expect(await (await app.fetch("/me", { headers: { cookie: other } })).json()).toEqual({ id: "bob", roles: ["admin"] });
  });

  it("a user without an id is the app's mistake, named", async () => {
    const res = await makeApp({ DEBUG: "true" }).fetch("/bad-login", { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("login(context, user): user.id must be a non-empty string or a whole number");
    expect(printed.splice(0)).toHaveLength(1);
  });

  it("a logout everywhere whose listing fails is a 503 that keeps the session", async () => {
    const app = makeApp();
    const cookie = cookieOf(await app.fetch("/login?id=ada", { method: "POST" }));
    app.store.failList = true;
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie } });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(printed.splice(0)).toEqual(["kiln: listing the user's sessions failed: Error: KV LIST failed: 503"]);
    expect(await (await app.fetch("/me", { headers: { cookie } })).json()).toEqual({ id: "ada", roles: ["admin"] });
  });
});

describe("basicAuth's set-up", () => {
  it("a secret that is not set stops the request with an error that names it, rather than letting an empty password in", async () => {
    const empty = `Basic ${btoa("team:")}`;
    const res = await makeApp({ DEBUG: "true" }).fetch("/staging", { headers: { authorization: empty } });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("basicAuth: the password is not set");
    const blank = await makeApp({ STAGING_PASSWORD: "" }).fetch("/staging", { headers: { authorization: empty } });
    expect(blank.status).toBe(500);
    expect(printed.splice(0)).toHaveLength(2);
    expect(await (await makeApp({ STAGING_PASSWORD: "let-me-in" }).fetch("/staging", { headers: { authorization: `Basic ${btoa("team:let-me-in")}` } })).text()).toBe("staging");
  });

  it("a realm that would break the header is refused when the middleware is made", () => {
    expect(() => basicAuth({ username: "a", password: "b", realm: 'say "hi"' })).toThrow(TypeError);
  });
});

describe("rateLimit's faults", () => {
  it("a Durable Object that fails is a 503 with Retry-After, never a pass", async () => {
    const broken = { idFromName: (n: string) => n, get: () => ({ fetch: () => Promise.reject(new Error("object reset")) }) };
    const res = await makeApp({ RATE_LIMITS: broken }).fetch("/limited", { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(printed.splice(0)).toEqual(["kiln: rateLimit: the RATE_LIMITS Durable Object failed: Error: object reset"]);
  });

  it("without the binding, the error names it", async () => {
    const res = await makeApp({ DEBUG: "true" }).fetch("/limited", { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('rateLimit needs a Durable Object namespace bound as RATE_LIMITS, with class_name = "KilnRateLimiter"');
    expect(printed.splice(0)).toHaveLength(1);
  });

  it("refuses limits and windows that are not whole numbers in range", async () => {
    const context = { env: {} };
    await expect(rateLimit(context, "", { limit: 1, windowSeconds: 1 })).rejects.toThrow(TypeError);
    for (const options of [{ limit: 0, windowSeconds: 1 }, { limit: 1.5, windowSeconds: 1 }, { limit: 1, windowSeconds: 0 }, { limit: 1, windowSeconds: NaN }]) {
      await expect(rateLimit(context, "k", options)).rejects.toThrow(RangeError);
    }
  });
});

describe("safeNext", () => {
  it.each([
    ["/", "/"],
    ["/members", "/members"],
    ["/members?tab=2#top", "/members?tab=2#top"],
    ["/a/../b", "/b"],
    ["/caf%C3%A9", "/caf%C3%A9"],
  ])("keeps %j as %j", (value, expected) => {
    expect(safeNext(value)).toBe(expected);
  });

  it.each([
    "//evil.example", "///evil.example", "https://evil.example", "http:evil.example", "javascript:alert(1)", "/\\evil.example", "\\\\evil.example",
    "/%2Fevil.example", "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%255Cevil.example", "/%252F%252Fevil.example",
    "/.//evil.example", "/./%2F/evil.example", "/a/..//evil.example", "/%2e%2e//evil.example", "/\t/evil.example", "/\n/evil.example",
    "/%09/evil.example", "/%00", "/%E0%A4%A", "evil.example", "", "/" + "a".repeat(2048),
  ])("refuses %j", (value) => {
    expect(safeNext(value)).toBe("/");
    expect(safeNext(value, "/home")).toBe("/home");
  });

  it("refuses what is not a string", () => {
    for (const value of [null, undefined, 1, ["/a"], { toString: () => "/a" }]) expect(safeNext(value)).toBe("/");
  });
});

describe("access declarations", () => {
  it("sends a browser to LOGIN_PATH when the app sets one that is a path of its own", async () => {
    const at = async (LOGIN_PATH: string) => (await makeApp({ LOGIN_PATH }).fetch("/members?a=1")).headers.get("location");
    expect(await at("/account/sign-in")).toBe("/account/sign-in?next=%2Fmembers%3Fa%3D1");
    expect(await at("//evil.example")).toBe("/login?next=%2Fmembers%3Fa%3D1");
  });

  it("a rule per method: HEAD follows GET, and a method not named needs a login", async () => {
    const app = makeApp();
    const admin = cookieOf(await app.fetch("/login?id=ada", { method: "POST" }));
    const api = { accept: "application/json" };
    expect((await app.fetch("/products", { headers: api })).status).toBe(200);
    expect((await app.fetch("/products", { method: "HEAD", headers: api })).status).toBe(200);
    expect((await app.fetch("/products", { method: "POST", headers: api })).status).toBe(401);
    expect((await app.fetch("/products", { method: "POST", headers: { ...api, cookie: admin } })).status).toBe(200);
    expect((await app.fetch("/notes", { method: "DELETE", headers: api })).status).toBe(401);
    expect((await app.fetch("/notes", { method: "DELETE", headers: { ...api, cookie: admin } })).status).toBe(200);
  });


  it.each([["admin"], [{ role: "" }], [{ role: [] }], [{ roles: ["admin"] }], [{ role: "admin", extra: 1 }], [true], [null], [{}], [{ get: "public" }], [{ GET: "anyone" }]])("%j stops the Worker at start-up", (value) => {
    const routes: RouteEntry[] = [{ pattern: "/x", declares: { access: value }, methods: { GET: (() => new Response("")) as Handler } }];
    expect(() => createHandler(planRoutes(routes), { access })).toThrow('route /x: access must be "public", "user", { role: "name" }, { role: ["name", ...] }, or such rules by method ({ GET: "public", POST: "user" })');
  });
});
