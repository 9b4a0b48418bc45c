// Authentication and authorization in workerd, built by the real `kiln build`:
// passwords through workerd's WebCrypto, logins in real KV sessions, access
// rules for browsers, API clients and static files, throttling in the real
// KilnRateLimiter Durable Object, HTTP Basic and bearer auth.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build, formatRouteTable, loadRoutes } from "../src/compiler/index.js";
import { startApp, type TestApp } from "./helpers/app.js";
import { BROWSER, navigate } from "./helpers/navigate.js";
import { makeApp } from "./helpers/files.js";

const ROOT = resolve(import.meta.dirname, "fixtures/auth");
const OPS_PASSWORD = "pässwörd: with a colon";
const API_TOKEN = "current-token.abc~123";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(ROOT, { bindings: { SESSION_SECRET: "auth-test-secret-of-at-least-32-chars", OPS_PASSWORD, API_TOKEN } });
});
afterAll(() => app?.dispose());

/** A browser's cookie jar for the session cookie. */
class Visitor {
  constructor(public cookie = "") {}
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await app.fetch(path, { ...init, redirect: "manual", headers: { ...(init.headers as object), cookie: this.cookie } });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    return res;
  }
  post(path: string, form: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    return this.request(path, { method: "POST", body, headers });
  }
  async user(): Promise<unknown> {
    return ((await (await this.request("/")).json()) as { user: unknown }).user;
  }
}

let accounts = 0;
/** A fresh account (a fresh rate-limit key too), signed up and logged in. */
async function signedUp(roles: string[] = []): Promise<{ visitor: Visitor; email: string; password: string }> {
  const email = `user${accounts++}-${Date.now()}@example.com`;
  const password = `password of ${email}`;
  const visitor = new Visitor();
  expect((await visitor.post("/signup", { email, password, role: roles })).status).toBe(200);
  return { visitor, email, password };
}

describe("passwords, through workerd's WebCrypto", () => {
  it("stores a self-describing PBKDF2 hash, never the password; the right one logs in, a wrong one does not", async () => {
    const { email, password } = await signedUp();
    const stored = JSON.parse((await (await app.mf.getKVNamespace("USERS")).get(`user:${email}`, "text"))!);
    expect(stored.hash).toMatch(/^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(stored)).not.toContain(password);
    expect((await new Visitor().post("/login", { email, password: "wrong" })).status).toBe(401);
    expect((await new Visitor().post("/login", { email, password })).status).toBe(303);
  });

  it("a stored hash that asks more than 100,000 iterations is false, though this workerd could compute it", async () => {
    // Deployed Workers throw above 100,000 (workerd #1346); kiln never asks, so the answer is the same here as there.
    const salt = randomBytes(16);
    const hash = pbkdf2Sync("right password", salt, 600_000, 32, "sha256");
    const email = `strong-${Date.now()}@example.com`;
    await (await app.mf.getKVNamespace("USERS")).put(`user:${email}`, JSON.stringify({ hash: `$pbkdf2-sha256$i=600000$${salt.toString("base64url")}$${hash.toString("base64url")}`, roles: [] }));
    expect((await new Visitor().post("/login", { email, password: "right password" })).status).toBe(401);
  });

  it("a malformed stored hash is a failed login, never a 500", async () => {
    const users = await app.mf.getKVNamespace("USERS");
    for (const [i, hash] of ["", "plain text", "$pbkdf2-sha256$i=0$AAAA$BBBB", "$pbkdf2-sha256$i=100000$!!!$???", "$argon2id$v=19$m=65536$x$y"].entries()) {
      const email = `malformed${i}-${Date.now()}@example.com`;
      await users.put(`user:${email}`, JSON.stringify({ hash, roles: [] }));
      expect((await new Visitor().post("/login", { email, password: "anything" })).status).toBe(401);
    }
  });

  it("a login for an unknown account takes as long as one for a known account with a wrong password", async () => {
    const known = await Promise.all(Array.from({ length: 7 }, () => signedUp().then((a) => a.email)));
    const time = async (email: string) => {
      const start = performance.now();
      const res = await new Visitor().post("/login", { email, password: "wrong password" });
      expect(res.status).toBe(401);
      return performance.now() - start;
    };
    const unknown: number[] = [], wrong: number[] = [];
    for (const [i, email] of known.entries()) {
      unknown.push(await time(`nobody${i}-${Date.now()}@example.com`));
      wrong.push(await time(email));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    // Without the stand-in hash an unknown account answers in a millisecond or two, a twentieth of the known one.
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe("login and logout", () => {
  it("login gives a new session id: one planted before it is dead after it, and the session's data stays", async () => {
    const victim = new Visitor();
    await victim.post("/visit");
    const planted = victim.cookie;
    const { email, password } = await signedUp();
    expect((await victim.post("/login", { email, password })).status).toBe(303);
    expect(victim.cookie).not.toBe(planted);
    expect(await victim.user()).toEqual({ id: email, roles: [] });
    expect(await (await victim.request("/visit")).json()).toEqual({ visited: true });
    const attacker = new Visitor(planted);
    expect(await attacker.user()).toBe(null);
    expect(await (await attacker.request("/visit")).json()).toEqual({ visited: false });
  });

  it("logout ends the session: the cookie is cleared and the old one opens nothing", async () => {
    const { visitor } = await signedUp();
    const before = visitor.cookie;
    expect(await visitor.user()).not.toBe(null);
    await visitor.post("/logout");
    expect(visitor.cookie).toBe("kiln_session=");
    expect(await new Visitor(before).user()).toBe(null);
  });

  it("logout everywhere ends every session of the user, and no one else's", async () => {
    const { visitor: laptop, email, password } = await signedUp();
    const phone = new Visitor();
    await phone.post("/login", { email, password });
    const other = await signedUp();
    expect(await phone.user()).toEqual({ id: email, roles: [] });
    await laptop.post("/logout?everywhere");
    expect(await laptop.user()).toBe(null);
    expect(await phone.user()).toBe(null);
    expect(await other.visitor.user()).toEqual({ id: other.email, roles: [] });
  });

  it("keeps what login was given beside the id and roles", async () => {
    const visitor = new Visitor();
    const email = `named-${Date.now()}@example.com`;
    await visitor.post("/signup", { email, password: "long enough", name: "Ada", role: ["editor"] });
    expect(await visitor.user()).toEqual({ id: email, roles: ["editor"], name: "Ada" });
  });
});

const HTML = { accept: "text/html,application/xhtml+xml" };
const JSON_ACCEPT = { accept: "application/json" };

describe("access: who reaches what", () => {
  let user: Visitor, admin: Visitor, editor: Visitor;
  beforeAll(async () => {
    [user, admin, editor] = await Promise.all([signedUp(), signedUp(["admin"]), signedUp(["editor"])].map((p) => p.then((a) => a.visitor)));
  });

  it.each([
    ["a page", "/members", "/login?next=%2Fmembers"],
    ["a page with a query", "/members?tab=a&b=%2F", "/login?next=%2Fmembers%3Ftab%3Da%26b%3D%252F"],
    ["a guarded static file", "/members/secret.txt", "/login?next=%2Fmembers%2Fsecret.txt"],
    ["a path under a guarded folder that nothing serves", "/members/nothing-here", "/login?next=%2Fmembers%2Fnothing-here"],
    ["a role's page", "/admin", "/login?next=%2Fadmin"],
  ])("a browser that is not logged in gets 303 to the login page with next: %s", async (_, path, location) => {
    // A browser's page load, and a client without Fetch Metadata that does not ask for JSON (curl).
    for (const headers of [BROWSER, { accept: "*/*" }]) {
      const res = await navigate(app, path, { headers });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(location);
      expect(res.headers["cache-control"]).toContain("no-store");
      expect(res.headers["x-admin-middleware"]).toBeUndefined();
      expect(res.headers["set-cookie"]).toBeUndefined(); // a refused visitor costs no session write
    }
  });

  it("a browser's form post that is not logged in goes to the login page too", async () => {
    const res = await navigate(app, "/api/items", { method: "POST", headers: { ...BROWSER, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" }, body: "a=1" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/login?next=%2Fapi%2Fitems");
  });

  it.each([
    ["asks for JSON", "GET", JSON_ACCEPT],
    ["is a script's fetch()", "GET", { "sec-fetch-mode": "cors", accept: "*/*" }],
    ["posts JSON", "POST", { ...JSON_ACCEPT, "content-type": "application/json" }],
  ])("an API client that is not logged in gets 401: one that %s", async (_, method, headers) => {
    const res = await new Visitor().request("/api/items", { method, headers, body: method === "POST" ? "{}" : undefined });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Cookie realm="localhost", form-action="/login", cookie-name="kiln_session"');
    if (headers.accept === "application/json") expect(await res.json()).toEqual({ error: "Unauthorized: log in first", status: 401 });
  });

  it("a logged-in user reaches the members' pages and files, and the API", async () => {
    expect(await (await user.request("/members")).text()).toBe("members only");
    const file = await user.request("/members/secret.txt");
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("the members' secret\n");
    expect(file.headers.get("cache-control")).toBe("private, no-store");
    expect(await (await user.request("/api/items", { headers: JSON_ACCEPT })).json()).toEqual(["mug"]);
  });

  it("a logged-in user without the role gets 403, and the folder's middleware does not run", async () => {
    for (const path of ["/admin", "/staff"]) {
      const res = await user.request(path, { headers: HTML });
      expect(res.status).toBe(403);
      expect(res.headers.has("x-admin-middleware")).toBe(false);
    }
    expect(await (await user.request("/admin", { headers: JSON_ACCEPT })).json()).toEqual({ error: "Forbidden: your account does not have the role this needs", status: 403 });
    const page = await user.request("/staff", { headers: HTML });
    expect(await page.text()).toContain("This room is for staff"); // the app's public/403.html, for browsers
    expect((await editor.request("/admin")).status).toBe(403);
  });

  it("a user with the role (or one of the roles listed) gets in", async () => {
    const page = await admin.request("/admin");
    expect(page.status).toBe(200);
    expect(page.headers.get("x-admin-middleware")).toBe("ran");
    expect(await (await admin.request("/staff")).text()).toBe("staff room");
    expect(await (await editor.request("/staff")).text()).toBe("staff room");
  });

  it("a nested declaration overrides its folder's, and a route without one is open", async () => {
    expect(await (await new Visitor().request("/admin/status")).text()).toBe("status: fine");
    expect((await new Visitor().request("/login")).status).toBe(200);
  });

  it("HEAD is checked as GET is", async () => {
    const res = await navigate(app, "/members", { method: "HEAD" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/login?next=%2Fmembers");
  });
});

describe("next: only back into the same site", () => {
  it.each([
    ["/members?tab=2", "/members?tab=2"],
    ["//evil.example", "/"],
    ["https://evil.example", "/"],
    ["/\\evil.example", "/"],
    ["/%5Cevil.example", "/"],
    ["%2F%2Fevil.example", "/"],
    ["/%2F%2Fevil.example", "/"],
    ["/%252F%252Fevil.example", "/"],
    ["/.//evil.example", "/"],
    ["/a/..//evil.example", "/"],
    ["/\t/evil.example", "/"],
    ["javascript:alert(1)", "/"],
    ["", "/"],
  ])("next=%j gives %j", async (next, expected) => {
    const res = await app.fetch(`/login?next=${encodeURIComponent(next)}`);
    expect(await res.text()).toBe(`login form, then ${expected}`);
  });

  it("after the login, the redirect follows a same-site next and refuses another site", async () => {
    const { email, password } = await signedUp();
    expect((await new Visitor().post("/login?next=%2Fmembers%3Ftab%3D2", { email, password })).headers.get("location")).toBe("/members?tab=2");
    expect((await new Visitor().post("/login?next=%2F%5Cevil.example", { email, password })).headers.get("location")).toBe("/");
  });
});

describe("throttling in the KilnRateLimiter Durable Object", () => {
  it("is exact under concurrency: of ten calls at once against a limit of five, five pass", async () => {
    const key = `k-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => app.fetch(`/rate?key=${key}&limit=5&window=60`, { method: "POST" }).then((r) => r.json())));
    const passed = results.filter((r) => (r as { ok: boolean }).ok);
    expect(passed).toHaveLength(5);
    for (const r of results.filter((r) => !(r as { ok: boolean }).ok)) expect((r as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(59);
  });

  it("ten parallel wrong passwords for one account: five are checked, five get 429 with Retry-After", async () => {
    const { email } = await signedUp();
    const answers = await Promise.all(Array.from({ length: 10 }, () => new Visitor().post("/login", { email, password: "guess" })));
    expect(answers.map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    const refused = answers.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("counts per key, and lets calls through again once the window has passed", async () => {
    const key = `w-${Date.now()}`;
    const call = (k: string) => app.fetch(`/rate?key=${k}&limit=1&window=1`, { method: "POST" }).then((r) => r.json());
    expect(await call(key)).toEqual({ ok: true, retryAfter: 0 });
    expect(await call(key)).toEqual({ ok: false, retryAfter: 1 });
    expect(await call(`${key}-other`)).toEqual({ ok: true, retryAfter: 0 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await call(key)).toEqual({ ok: true, retryAfter: 0 });
  });

  it("forgets a key once its window has passed with no call: no storage is left behind", async () => {
    const key = `f-${Date.now()}`;
    const call = (window: number) => app.fetch(`/rate?key=${key}&limit=1&window=${window}`, { method: "POST" }).then((r) => r.json());
    expect(await call(1)).toEqual({ ok: true, retryAfter: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    // Asked with a longer window, a call a second and a half old would still count, had the object kept it.
    expect(await call(60)).toEqual({ ok: true, retryAfter: 0 });
  });

  it("does not count refused calls: a visitor who keeps trying gets in once the window since the first call has passed", async () => {
    const key = `r-${Date.now()}`;
    const call = () => app.fetch(`/rate?key=${key}&limit=2&window=1`, { method: "POST" }).then((r) => r.json());
    const at = (ms: number) => new Promise((r) => setTimeout(r, start + ms - Date.now()));
    const start = Date.now();
    expect(await call()).toEqual({ ok: true, retryAfter: 0 });
    await at(400);
    expect(await call()).toEqual({ ok: true, retryAfter: 0 });
    await at(600);
    expect(await call()).toEqual({ ok: false, retryAfter: 1 });
    // The first call has left the window; the second is in it; the refused third, had it counted, would be too.
    await at(1150);
    expect(await call()).toEqual({ ok: true, retryAfter: 0 });
  });
});

describe("HTTP Basic auth", () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;
  const CHALLENGE = 'Basic realm="staging", charset="UTF-8"';

  it("lets the right user name and password through, in UTF-8", async () => {
    const res = await app.fetch("/machine/status", { headers: { authorization: basic(`ops:${OPS_PASSWORD}`) } });
    expect(await res.text()).toBe("machine ok");
  });

  it.each([
    ["no header", undefined],
    ["a wrong password", basic("ops:wrong")],
    ["a wrong user name", basic(`root:${OPS_PASSWORD}`)],
    ["the password alone", basic(OPS_PASSWORD)],
    ["bad base64", "Basic !!!not-base64"],
    ["bytes that are not UTF-8", `Basic ${Buffer.from([0x6f, 0x70, 0x73, 0x3a, 0xff]).toString("base64")}`],
    ["an empty header", "Basic"],
    ["another scheme", `Bearer ${API_TOKEN}`],
  ])("answers %s with 401 and the challenge, never a 500", async (_, authorization) => {
    const res = await app.fetch("/machine/status", { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(CHALLENGE);
  });
});

describe("bearer tokens", () => {
  it("lets each configured token through", async () => {
    for (const token of [API_TOKEN, "previous-token-kept-while-rotating"]) {
      expect(await (await app.fetch("/tokens/ping", { headers: { authorization: `Bearer ${token}` } })).text()).toBe("pong");
    }
  });

  it.each([
    ["no token", undefined, 401, 'Bearer realm="api"'],
    ["another scheme", "Basic b3BzOng=", 401, 'Bearer realm="api"'],
    ["a wrong token", "Bearer not-the-token", 401, 'Bearer realm="api", error="invalid_token"'],
    ["a malformed header", "Bearer two words", 400, 'Bearer realm="api", error="invalid_request"'],
  ])("answers %s as RFC 6750 says", async (_, authorization, status, challenge) => {
    const res = await app.fetch("/tokens/ping", { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(status);
    expect(res.headers.get("www-authenticate")).toBe(challenge);
  });
});


const GET = "export const onRequestGet = () => new Response('x');\n";

describe("kiln routes and kiln build", () => {
  it("kiln routes shows each route's access, and the folder it comes from", async () => {
    const rows = formatRouteTable(await loadRoutes(ROOT))
      .split("\n")
      .map((l) => l.split(/\s{2,}/));
    const access = Object.fromEntries(rows.map((row) => [row[0], row[4]]));
    expect(rows[0]).toEqual(["pattern", "methods", "file", "middleware", "access", "declares"]);
    expect(access).toMatchObject({
      "/": "public",
      "/login": '"public"',
      "/members": '"user" (members/_middleware.ts)',
      "/admin": '{ role: "admin" } (admin/_middleware.ts)',
      "/admin/status": '"public"',
      "/staff": '{ role: ["editor", "admin"] }',
      "/members/*": '"user"',
    });
  });

  it("exports KilnRateLimiter from the entry when wrangler.toml binds it, and ships the access check only to apps that declare access", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kiln-auth-out-")), "worker.ts");
    await build({ root: ROOT, out });
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(out, "utf8")).toContain("export { KilnRateLimiter } from");
    expect(readFileSync(out, "utf8")).toMatch(/import \{ access \} from/);
    const plain = makeApp({ "functions/index.ts": GET });
    await build({ root: plain });
    const entry = readFileSync(join(plain, ".kiln/worker.ts"), "utf8");
    expect(entry).not.toContain("KilnRateLimiter");
    expect(entry).not.toContain("access");
  });

  it("ships sessions to an app that only declares access, or calls login, logout or currentUser: they keep the user there", async () => {
    const { readFileSync } = await import("node:fs");
    const sources = [
      `export const access = "user";\n${GET}`,
      ...["login(context, { id: 'a' })", "logout(context)", "currentUser(context)"].map(
        (call) => `import { login, logout, currentUser } from "kiln";\nexport const onRequestPost = async (context) => (await ${call}, new Response(""));\n`,
      ),
    ];
    for (const source of sources) {
      const root = makeApp({ "functions/a.ts": source });
      await build({ root });
      expect(readFileSync(join(root, ".kiln/worker.ts"), "utf8"), source).toContain("import { sessions }");
    }
  });

  it.each([
    [
      "a folder that guards static files with no access rule and no handler",
      { "functions/files/_middleware.ts": "export const guardsStaticFiles = true;\nexport const csrf = true;\n", "public/files/a.txt": "a" },
      "functions/files/_middleware.ts guards static files but declares no access and has no handler: they are served to anyone",
    ],
    [
      "a folder with an access rule whose static files are not guarded",
      { "functions/members/_middleware.ts": 'export const access = "user";\n', "public/members/a.txt": "a" },
      'functions/members/_middleware.ts declares access, but the files in public/members/ are served to anyone: export guardsStaticFiles from it',
    ],
    [
      "a guarded login page",
      { "functions/_middleware.ts": 'export const access = "user";\n', "functions/login.ts": GET },
      'functions/login.ts: the login page is guarded (access = "user" from functions/_middleware.ts), so visitors are sent to it in a loop: declare access = "public" in it',
    ],
    [
      "a call of rateLimit without the Durable Object",
      { "functions/login.ts": 'import { rateLimit } from "kiln";\nexport const onRequestPost = (c) => rateLimit(c, "k", { limit: 1, windowSeconds: 1 }).then(() => new Response(""));\n' },
      'functions/login.ts call rateLimit, but wrangler.toml binds no RATE_LIMITS Durable Object with class_name = "KilnRateLimiter" (docs/auth.md)',
    ],
  ])("kiln build warns about %s", async (_, files, note) => {
    const { notes } = await build({ root: makeApp(files) });
    expect(notes).toContain(note);
  });

  it("an access declaration that is not a rule fails at start-up, naming the route", async () => {
    let output = "";
    const root = makeApp({ "functions/a.ts": "export const access = 'admin';\n" + GET });
    await expect(startApp(root, { onOutput: (text) => (output += text) })).rejects.toThrow(/failed to start/);
    expect(output).toContain('route /a: access must be "public", "user", { role: "name" }, { role: ["name", ...] }, or such rules by method ({ GET: "public", POST: "user" })');
  });
});
