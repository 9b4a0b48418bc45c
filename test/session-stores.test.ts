// The two session stores side by side, inside workerd: one shared table of
// cases that KV (miniflare's KV) and the Durable Object store (KilnSessionStore,
// a real SQLite-backed object) both pass, then what only the object promises:
// per-key merge, session.lock(), bounded waits, faults. The same route files
// run on both; only wrangler.toml differs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, BuildError } from "../src/compiler/index.js";
import { bundleEntry, startApp, type TestApp } from "./helpers/app.js";

const FIXTURE = resolve(import.meta.dirname, "fixtures/session-stores");
const SECRET = "s".repeat(16) + "-store-secret-32+chars";
const BINDINGS = { SESSION_SECRET: SECRET, SESSION_LOCK_TIMEOUT: "1", SESSION_MAX_BYTES: "26214400", DEBUG: "true" };

/** The fixture's functions/ under a wrangler.toml that binds SESSIONS to KV. */
function kvRoot(): string {
  const root = resolve(import.meta.dirname, `.tmp/session-stores-kv-${process.pid}`);
  mkdirSync(root, { recursive: true });
  cpSync(join(FIXTURE, "functions"), join(root, "functions"), { recursive: true });
  const toml = readFileSync(join(FIXTURE, "wrangler.toml"), "utf8").split("[[durable_objects.bindings]]")[0];
  writeFileSync(join(root, "wrangler.toml"), `${toml}[[kv_namespaces]]\nbinding = "SESSIONS"\nid = "sessions"\n`);
  return root;
}

const apps: Record<"kv" | "durable", TestApp> = {} as never;
beforeAll(async () => {
  [apps.kv, apps.durable] = await Promise.all([startApp(kvRoot(), { bindings: BINDINGS }), startApp(FIXTURE, { bindings: BINDINGS })]);
});
afterAll(() => Promise.all(Object.values(apps).map((app) => app.dispose())));

function cookieOf(res: Response): string {
  const match = /kiln_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "");
  if (!match) throw new Error(`no session cookie in ${res.headers.get("set-cookie")}`);
  return `kiln_session=${match[1]}`;
}

const cleared = (res: Response) => /kiln_session=;.*Max-Age=0/i.test(res.headers.get("set-cookie") ?? "");
const post = (app: TestApp, path: string, cookie?: string, body?: unknown) =>
  app.fetch(path, { method: "POST", headers: cookie ? { cookie } : {}, body: body === undefined ? undefined : JSON.stringify(body) });
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;
const visits = (app: TestApp, cookie: string) => json<{ visits: number | null }>(app.fetch("/count", { headers: { cookie } })).then((r) => r.visits);
const value = (app: TestApp, cookie: string, key: string) => json<{ value: unknown }>(app.fetch(`/data?key=${key}`, { headers: { cookie } })).then((r) => r.value);
const user = (app: TestApp, cookie: string) => json<{ user: string | null }>(app.fetch("/login", { headers: { cookie } })).then((r) => r.user);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function loggedIn(app: TestApp, name: string): Promise<string> {
  const res = await post(app, `/login?user=${name}`);
  expect(res.status).toBe(200);
  return cookieOf(res);
}

/** What both stores must do: every rule of the KV store's tests that is not about KV's own operation counts. */
const shared: [string, (app: TestApp) => Promise<void>][] = [
  ["a visitor who only reads gets no cookie", async (app) => {
    for (const path of ["/anon", "/count", "/data?key=a"]) {
      const res = await app.fetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.has("set-cookie")).toBe(false);
    }
  }],
  ["a change is read back at once, by the next request and the one after", async (app) => {
    const cookie = cookieOf(await post(app, "/count"));
    for (let n = 2; n <= 5; n++) expect(await json(post(app, "/count", cookie))).toEqual({ visits: n });
    expect(await visits(app, cookie)).toBe(5);
  }],
  ["a delete is read back at once", async (app) => {
    const cookie = cookieOf(await post(app, "/data?key=a", undefined, 1));
    await app.fetch("/data?key=a", { method: "DELETE", headers: { cookie } });
    expect(await value(app, cookie, "a")).toBe(null);
  }],
  ["a flash message is read once", async (app) => {
    const cookie = cookieOf(await post(app, "/flash"));
    expect(await (await app.fetch("/flash", { headers: { cookie } })).text()).toBe("Saved");
    expect(await (await app.fetch("/flash", { headers: { cookie } })).text()).toBe("nothing new");
  }],
  ["regenerate gives a new id with the same data, and the old id is dead", async (app) => {
    const old = cookieOf(await post(app, "/count"));
    const fresh = cookieOf(await post(app, "/regenerate", old));
    expect(fresh).not.toBe(old);
    expect(await visits(app, fresh)).toBe(1);
    expect(await visits(app, old)).toBe(null);
    const res = await post(app, "/count", old); // a write with the old cookie starts a new session, never the old one
    expect(cookieOf(res)).not.toBe(old);
    expect(await visits(app, fresh)).toBe(1);
  }],
  ["a tampered or unknown cookie is an anonymous session, never a 500", async (app) => {
    const cookie = cookieOf(await post(app, "/count"));
    for (const bad of [cookie.slice(0, -2) + "AA", "kiln_session=x", "kiln_session=" + "a".repeat(5000)]) {
      expect(await visits(app, bad)).toBe(null);
    }
  }],
  ["logout clears the cookie, and the old cookie opens nothing", async (app) => {
    const cookie = await loggedIn(app, "ada");
    expect(await user(app, cookie)).toBe("ada");
    expect(cleared(await post(app, "/logout", cookie))).toBe(true);
    expect(await user(app, cookie)).toBe(null);
  }],
  ["logout is final: a slow write that loaded the session before it never brings it back (5 of 5)", async (app) => {
    for (let trial = 0; trial < 5; trial++) {
      const cookie = await loggedIn(app, "ada");
      const slow = post(app, "/data?key=cart&wait=300", cookie, { mug: 1 });
      await pause(100);
      expect((await post(app, "/logout", cookie)).status).toBe(200);
      expect(cleared(await slow)).toBe(true);
      expect(await user(app, cookie)).toBe(null);
      expect(await value(app, cookie, "cart")).toBe(null);
    }
  }],
  ["logout everywhere ends the user's three sessions at once, and no one else's", async (app) => {
    const ada = await Promise.all([loggedIn(app, "ada"), loggedIn(app, "ada"), loggedIn(app, "ada")]);
    const grace = await loggedIn(app, "grace");
    expect((await post(app, "/logout?everywhere", ada[0])).status).toBe(200);
    expect(await Promise.all(ada.map((c) => user(app, c)))).toEqual([null, null, null]);
    expect(await user(app, grace)).toBe("grace");
  }],
];

describe.each(["kv", "durable"] as const)("the shared table, on the %s store", (store) => {
  it.each(shared)("%s", async (_, run) => run(apps[store]));
});

/** n parallel increments of one session's counter; the count it ends with. */
async function increments(app: TestApp, n: number, query: string): Promise<number> {
  const cookie = cookieOf(await post(app, "/count"));
  const answers = await Promise.all(Array.from({ length: n }, () => post(app, `/count?${query}`, cookie)));
  expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
  return ((await visits(app, cookie)) ?? 0) - 1;
}

describe("what only the Durable Object store promises", () => {
  it("20 parallel increments with session.lock() give 20", async () => {
    expect(await increments(apps.durable, 20, "lock&wait=20")).toBe(20);
  });

  it("without the lock, parallel read-modify-writes of one key lose updates on both stores", async () => {
    expect(await increments(apps.durable, 20, "wait=20")).toBeLessThan(20);
    expect(await increments(apps.kv, 20, "wait=20")).toBeLessThan(20);
  });

  it("commits merge per key: two requests that change different keys both keep their change (KV keeps one)", async () => {
    for (const [store, kept] of [["durable", [1, 2]], ["kv", [null, 2]]] as const) {
      const app = apps[store];
      const cookie = cookieOf(await post(app, "/count"));
      await Promise.all([post(app, "/data?key=a&wait=100", cookie, 1), pause(30).then(() => post(app, "/data?key=b&wait=200", cookie, 2))]);
      expect([await value(app, cookie, "a"), await value(app, cookie, "b")]).toEqual(kept);
    }
  });

  it("a request that waits for the lock past SESSION_LOCK_TIMEOUT gets a 503 that says so, and changes nothing", async () => {
    const app = apps.durable;
    const cookie = cookieOf(await post(app, "/data?key=a", undefined, 0));
    const holder = post(app, "/data?key=a&lock&wait=2500", cookie, 1);
    await pause(200);
    const started = Date.now();
    const waiter = await post(app, "/data?key=a&lock", cookie, 2);
    expect(waiter.status).toBe(503);
    expect(waiter.headers.get("retry-after")).toBe("1");
    expect(await waiter.text()).toContain("another request is using your session");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await holder).status).toBe(200);
    expect(await value(app, cookie, "a")).toBe(1);
  });

  it("a handler that throws frees its lock at once, not when the lease runs out", async () => {
    const app = apps.durable;
    const cookie = cookieOf(await post(app, "/data?key=a", undefined, 0));
    expect((await post(app, "/data?key=a&lock&throw=1", cookie, 1)).status).toBe(500);
    const res = await post(app, "/data?key=a&lock", cookie, 2);
    expect(res.status).toBe(200);
    expect(await value(app, cookie, "a")).toBe(2);
  });

  it("session.lock() on KV is a SessionConfigError that names the store it needs", async () => {
    const cookie = cookieOf(await post(apps.kv, "/count"));
    const res = await post(apps.kv, "/count?lock", cookie);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("session.lock() needs the Durable Object session store");
  });

  it("an object that throws (a value over its 2 MB limit) gives a 503 and loses nothing committed", async () => {
    const app = apps.durable;
    const cookie = cookieOf(await post(app, "/data?key=a", undefined, "kept"));
    const res = await post(app, "/data?key=big", cookie, "x".repeat(3 * 1024 * 1024));
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(await value(app, cookie, "a")).toBe("kept");
    expect(app.output()).toContain("saving the session failed");
  });
});

describe("kiln build picks the store from wrangler.toml", () => {
  it("exports KilnSessionStore only when SESSIONS is bound to it: a KV app's bundle does not carry it", async () => {
    const out = resolve(import.meta.dirname, `.tmp/session-stores-build-${process.pid}`);
    const kv = await build({ root: kvRoot(), out: join(out, "kv/worker.ts") });
    const durable = await build({ root: FIXTURE, out: join(out, "durable/worker.ts") });
    expect(readFileSync(kv.outFile, "utf8")).not.toContain("session-object");
    expect(readFileSync(durable.outFile, "utf8")).toMatch(/export \{ KilnSessionStore \} from/);
    const [kvBundle, durableBundle] = await Promise.all([bundleEntry(kv.outFile), bundleEntry(durable.outFile)]);
    expect(kvBundle).not.toMatch(/KilnSessionStore = class|class KilnSessionStore|session\.kiln/);
    expect(durableBundle).toMatch(/KilnSessionStore = class|class KilnSessionStore/);
  });

  it("refuses the class bound under another name, or SESSIONS bound twice, naming the setting", async () => {
    const root = kvRoot();
    const toml = readFileSync(join(FIXTURE, "wrangler.toml"), "utf8");
    for (const [config, message] of [
      [toml.replace('name = "SESSIONS"', 'name = "STORE"'), 'durable_objects.bindings "STORE" has class_name = "KilnSessionStore"'],
      [`${toml}\n[[kv_namespaces]]\nbinding = "SESSIONS"\nid = "x"\n`, "kv_namespaces binds SESSIONS while a Durable Object binding uses KilnSessionStore"],
    ]) {
      writeFileSync(join(root, "wrangler.toml"), config);
      const error = await build({ root, out: join(root, ".kiln/worker.ts") }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      expect(String((error as Error).message)).toContain(message);
    }
    kvRoot(); // the KV config back, for the apps above
  });
});
