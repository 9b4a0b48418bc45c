import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/sessions");
const SECRET_A = "a".repeat(16) + "-first-secret-32+chars";
const SECRET_B = "b".repeat(16) + "-second-secret-32+chars";

let app: TestApp;
let output = "";
beforeAll(async () => {
  app = await startApp(ROOT, { kvProbe: true, bindings: { SESSION_SECRET: SECRET_A }, onOutput: (t) => (output += t) });
});
afterAll(() => app?.dispose());

/** `kiln_session=…` from a response's Set-Cookie, for the next request's Cookie header. */
function cookieOf(res: Response): string {
  const header = res.headers.get("set-cookie") ?? "";
  const match = /kiln_session=([^;]*)/.exec(header);
  if (!match) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  return `kiln_session=${match[1]}`;
}

const kv = (res: Response) => ({ reads: Number(res.headers.get("x-kv-reads")), writes: Number(res.headers.get("x-kv-writes")) });

async function visits(cookie: string, target = app): Promise<unknown> {
  const res = await target.fetch("/count", { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { visits: unknown }).visits;
}

async function newSession(target = app): Promise<string> {
  return cookieOf(await target.fetch("/count", { method: "POST" }));
}

/** A cookie as kiln writes it, made here with the secret: for ids and times kiln would not pick. */
function forgeCookie(secret: string, id = randomBytes(18).toString("base64url"), issued = Math.floor(Date.now() / 1000)): { cookie: string; id: string } {
  const payload = `${id}.${issued.toString(36)}`;
  const sig = createHmac("sha256", secret).update(`kiln_session=${payload}`).digest("base64url");
  return { cookie: `kiln_session=${payload}.${sig}`, id };
}

const recordKey = (id: string) => `session:${createHash("sha256").update(id).digest("hex")}`;
const revokedKey = (id: string) => `revoked:${createHash("sha256").update(id).digest("hex")}`;
const idOf = (cookie: string) => cookie.split("=")[1].split(".")[0];

/** What KV holds for a session: its record's data and whether it is marked as ended. */
async function stored(cookie: string): Promise<{ data: unknown; revoked: boolean }> {
  const ns = await app.mf.getKVNamespace("SESSIONS");
  const text = await ns.get(recordKey(idOf(cookie)), "text");
  return { data: text === null ? null : (JSON.parse(text) as { data: unknown }).data, revoked: (await ns.get(revokedKey(idOf(cookie)), "text")) !== null };
}

/** Asserts that workerd printed `expected` after `mark`; its output can arrive after the response, so it waits up to 5 s. */
async function expectPrinted(expected: string | RegExp, mark = 0, read = () => output): Promise<void> {
  const seen = () => (typeof expected === "string" ? read().slice(mark).includes(expected) : expected.test(read().slice(mark)));
  for (let waited = 0; waited < 5000 && !seen(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(read().slice(mark)).toMatch(expected);
}

describe("lazy: KV only when the session is used and changed", () => {
  it("1,000 anonymous requests make no KV write, no record and no cookie", async () => {
    let writes = 0;
    for (let i = 0; i < 500; i++) {
      for (const path of ["/anon", "/count"]) {
        const res = await app.fetch(path);
        writes += kv(res).writes;
        expect(res.headers.has("set-cookie")).toBe(false);
        await res.arrayBuffer();
      }
    }
    expect(writes).toBe(0);
    const before = await (await app.mf.getKVNamespace("SESSIONS")).list();
    expect(before.keys.filter((k) => k.name.startsWith("session:"))).toHaveLength(0);
  }, 60_000);

  it("a request that never touches the session reads nothing, even with a cookie", async () => {
    const cookie = await newSession();
    const res = await app.fetch("/anon", { headers: { cookie } });
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("a read-only request costs two reads (the record and its revocation mark), no write and no Set-Cookie", async () => {
    const cookie = await newSession();
    const res = await app.fetch("/count", { headers: { cookie } });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(await res.json()).toMatchObject({ visits: 1 });
  });

  it("a change costs one write (and a read of the revocation mark after it), and the cookie is HttpOnly, SameSite=Lax, Path=/", async () => {
    const first = await app.fetch("/count", { method: "POST" });
    expect(kv(first)).toEqual({ reads: 0, writes: 1 });
    const header = first.headers.get("set-cookie")!;
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Lax/);
    expect(header).toMatch(/Path=\//);
    expect(header).not.toMatch(/Secure/);
    expect(first.headers.get("cache-control")).toBe("private, no-store");
    expect(first.headers.get("vary")).toBe("Cookie");
    const cookie = cookieOf(first);
    const second = await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(kv(second)).toEqual({ reads: 3, writes: 1 });
    expect(await second.json()).toEqual({ visits: 2 });
  });

  it("sets Secure on https", async () => {
    const res = await app.fetch("https://shop.example/count", { method: "POST" });
    expect(res.headers.get("set-cookie")).toMatch(/Secure/);
  });

  it("marks a response that only read the session private, no-store", async () => {
    const res = await app.fetch("/count");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("vary")).toBe("Cookie");
  });
});

describe("the id and its signature", () => {
  it("ids are 144 random bits (24 base64url characters) and never repeat", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = (await newSession()).split("=")[1].split(".")[0];
      expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(100);
  });

  it("binds the cookie's name into the signature", async () => {
    const { cookie, id } = forgeCookie(SECRET_A);
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const now = Date.now();
    await ns.put(recordKey(id), JSON.stringify({ data: { visits: 5 }, flash: {}, created: now, deadline: now + 3600_000 }));
    expect(await visits(cookie)).toBe(5);
    const [payloadId, issued] = cookie.split("=")[1].split(".");
    const otherName = createHmac("sha256", SECRET_A).update(`other_cookie=${payloadId}.${issued}`).digest("base64url");
    expect(await visits(`kiln_session=${payloadId}.${issued}.${otherName}`)).toBe(null);
  });
});

describe("the record", () => {
  it("is kept under a hash of the id, never the id, and expires at the absolute deadline", async () => {
    const { cookie, id } = forgeCookie(SECRET_A);
    // kiln never adopts an id it did not issue, so it makes its own: read it back from KV.
    const res = await app.fetch("/count", { method: "POST", headers: { cookie } });
    const issued = cookieOf(res).split("=")[1].split(".")[0];
    expect(issued).not.toBe(id);
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const { keys } = await ns.list();
    expect(keys.some((k) => k.name.includes(issued))).toBe(false);
    const key = keys.find((k) => k.name === recordKey(issued));
    expect(key).toBeDefined();
    const week = Date.now() / 1000 + 7 * 24 * 3600;
    expect(Math.abs(key!.expiration! - week)).toBeLessThan(60);
  });

  it("keeps its expiration when it is written again", async () => {
    const cookie = await newSession();
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const id = cookie.split("=")[1].split(".")[0];
    const before = (await ns.list()).keys.find((k) => k.name === recordKey(id))!.expiration;
    await new Promise((r) => setTimeout(r, 1100));
    await app.fetch("/count", { method: "POST", headers: { cookie } });
    const after = (await ns.list()).keys.find((k) => k.name === recordKey(id))!.expiration;
    expect(after).toBe(before);
  });
});

describe("flash, regenerate, destroy", () => {
  it("a flash message is read exactly once, by a later request", async () => {
    const cookie = cookieOf(await app.fetch("/flash", { method: "POST" }));
    expect(await (await app.fetch("/flash", { headers: { cookie } })).json()).toEqual({ notice: "Saved!" });
    expect(await (await app.fetch("/flash", { headers: { cookie } })).json()).toEqual({ notice: null });
  });

  it("regenerate gives a new id with the same data and kills the old one", async () => {
    const old = await newSession();
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old } });
    const fresh = cookieOf(res);
    expect(fresh).not.toBe(old);
    expect(await visits(fresh)).toBe(1);
    expect(await visits(old)).toBe(null);
  });

  it("destroy deletes the record and clears the cookie with the same Path", async () => {
    const cookie = await newSession();
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie } });
    const header = res.headers.get("set-cookie")!;
    expect(header).toMatch(/kiln_session=;/);
    expect(header).toMatch(/Max-Age=0/);
    expect(header).toMatch(/Path=\//);
    expect(await visits(cookie)).toBe(null);
  });
});

describe("bad cookies are anonymous sessions, never a 500", () => {
  let good: string;
  beforeAll(async () => {
    good = await newSession();
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
  ];
  it.each(cases)("%s", async (_, cookie) => {
    const res = await app.fetch("/count", { headers: { cookie: cookie() } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visits: null, user: null });
  });

  it("a signed cookie whose record is gone is not adopted", async () => {
    const { cookie } = forgeCookie(SECRET_A);
    expect(await visits(cookie)).toBe(null);
    const res = await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(cookieOf(res)).not.toBe(cookie);
  });

  it("a record that tries __proto__ tricks stays plain data", async () => {
    const { cookie, id } = forgeCookie(SECRET_A);
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const now = Date.now();
    await ns.put(recordKey(id), `{"data":{"__proto__":{"user":"admin"},"visits":3},"flash":{"__proto__":{"x":1}},"created":${now},"deadline":${now + 3600_000}}`);
    const res = await app.fetch("/count", { headers: { cookie } });
    expect(await res.json()).toEqual({ visits: 3, user: null });
    expect(({} as Record<string, unknown>).user).toBeUndefined();
  });

  it("a cookie older than the idle timeout is anonymous", async () => {
    const { cookie, id } = forgeCookie(SECRET_A, undefined, Math.floor(Date.now() / 1000) - 25 * 3600);
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const now = Date.now();
    await ns.put(recordKey(id), JSON.stringify({ data: { visits: 9 }, flash: {}, created: now, deadline: now + 3600_000 }));
    expect(await visits(cookie)).toBe(null);
  });

  it("an active cookie past a quarter of the idle timeout is reissued without a KV write", async () => {
    const { cookie, id } = forgeCookie(SECRET_A, undefined, Math.floor(Date.now() / 1000) - 7 * 3600);
    const ns = await app.mf.getKVNamespace("SESSIONS");
    const now = Date.now();
    await ns.put(recordKey(id), JSON.stringify({ data: { visits: 4 }, flash: {}, created: now, deadline: now + 3600_000 }));
    const res = await app.fetch("/count", { headers: { cookie } });
    expect(await res.json()).toMatchObject({ visits: 4 });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(cookieOf(res)).not.toBe(cookie);
    expect(await visits(cookieOf(res))).toBe(4);
  });
});

describe("secrets", () => {
  it("the first secret signs, all verify, and a retired secret's cookie is anonymous", async () => {
    const rotated = await startApp(ROOT, { bindings: { SESSION_SECRET: `${SECRET_B}, ${SECRET_A}` } });
    const onlyB = await startApp(ROOT, { bindings: { SESSION_SECRET: SECRET_B } });
    try {
      const oldCookie = await newSession(rotated); // rotated app: signed with B
      const signedByA = await newSession(app);
      // Each app has its own KV, so compare the signatures kiln wrote: B's, checked here with node:crypto.
      const [id, issued, sig] = oldCookie.split("=")[1].split(".");
      expect(createHmac("sha256", SECRET_B).update(`kiln_session=${id}.${issued}`).digest("base64url")).toBe(sig);
      expect(await visits(oldCookie, rotated)).toBe(1);
      expect(await visits(oldCookie, onlyB)).toBe(null); // onlyB has no record: anonymous, no 500
      const { cookie: forgedA, id: idA } = forgeCookie(SECRET_A);
      const now = Date.now();
      for (const target of [rotated, onlyB]) {
        await (await target.mf.getKVNamespace("SESSIONS")).put(recordKey(idA), JSON.stringify({ data: { visits: 7 }, flash: {}, created: now, deadline: now + 3600_000 }));
      }
      expect(await visits(forgedA, rotated)).toBe(7); // A still verifies while it is listed
      expect(await visits(forgedA, onlyB)).toBe(null); // retired: anonymous
      expect(signedByA).toBeTruthy();
    } finally {
      await rotated.dispose();
      await onlyB.dispose();
    }
  });

  it.each([
    ["missing", {}, "SESSION_SECRET is not set"],
    ["short", { SESSION_SECRET: "too-short" }, "SESSION_SECRET: secret 1 is 9 characters; use at least 32"],
  ])("a %s secret is a clear error naming the setting", async (_, bindings, message) => {
    const broken = await startApp(ROOT, { bindings: { ...bindings, DEBUG: "true" } });
    try {
      const res = await broken.fetch("/count", { method: "POST" });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain(message);
      expect(await (await broken.fetch("/anon")).text()).toBe("hello");
    } finally {
      await broken.dispose();
    }
  });
});

describe("limits, CSRF and KV failures", () => {
  it("data over the size budget is an error when it is set", async () => {
    const res = await app.fetch("/big", { method: "POST" });
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/over the budget of 65536 \(SESSION_MAX_BYTES\)/);
    expect(kv(res).writes).toBe(0);
  });

  it("refuses unsafe cross-site requests that carry the session cookie", async () => {
    const cookie = await newSession();
    const cross = await app.fetch("/count", { method: "POST", headers: { cookie, "sec-fetch-site": "cross-site" } });
    expect(cross.status).toBe(403);
    const origin = await app.fetch("/count", { method: "POST", headers: { cookie, origin: "https://evil.example" } });
    expect(origin.status).toBe(403);
    const same = await app.fetch("/count", { method: "POST", headers: { cookie, "sec-fetch-site": "same-origin", origin: "http://localhost" } });
    expect(same.status).toBe(200);
    const script = await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(script.status).toBe(200);
    expect(await visits(cookie)).toBe(3);
  });

  it("gives forms a CSRF token bound to the session", async () => {
    const page = await app.fetch("/form");
    const cookie = cookieOf(page);
    const token = await page.text();
    const post = (csrf: string, c = cookie) => app.fetch("/form", { method: "POST", headers: { cookie: c }, body: new URLSearchParams({ csrf, text: "hi" }) });
    expect((await post(token)).status).toBe(200);
    expect((await post("x".repeat(43))).status).toBe(403);
    expect((await post(token, await newSession())).status).toBe(403);
  });

  it("a KV read that fails gives an anonymous session and a warning", async () => {
    const cookie = await newSession();
    const mark = output.length;
    const res = await app.fetch("/count", { headers: { cookie, "x-kv-fail": "get" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visits: null, user: null });
    expect(res.headers.has("set-cookie")).toBe(false);
    await expectPrinted("reading the session from KV failed", mark);
  });

  it("a KV write that fails is retried once", async () => {
    const res = await app.fetch("/count", { method: "POST", headers: { "x-kv-fail": "put-once" } });
    expect(res.status).toBe(200);
    expect(kv(res).writes).toBe(2);
    expect(await visits(cookieOf(res))).toBe(1);
  });

  it("a KV write that keeps failing is reported, not pretended", async () => {
    const res = await app.fetch("/count", { method: "POST", headers: { "x-kv-fail": "put" } });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("50 parallel changes to one session give no 500", async () => {
    const cookie = await newSession();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => app.fetch("/count", { method: "POST", headers: { cookie } }).then((r) => r.status)),
    );
    expect(results.every((s) => s === 200)).toBe(true);
    expect(await visits(cookie)).toBeGreaterThanOrEqual(2);
  });
});

describe("KV faults lose nothing", () => {
  const changes: [string, string, (cookie: string) => Promise<RequestInit>][] = [
    ["a change", "/count", async () => ({ method: "POST" })],
    ["a login (regenerate)", "/login", async () => ({ method: "POST" })],
    ["a logout (destroy)", "/logout", async () => ({ method: "POST" })],
    [
      "a form checked with its CSRF token",
      "/form",
      async (cookie) => {
        const token = await (await app.fetch("/form", { headers: { cookie } })).text();
        return { method: "POST", body: new URLSearchParams({ csrf: token, text: "hi" }) };
      },
    ],
  ];
  it.each(changes)("%s after a failed KV read answers 503, writes nothing and keeps the session", async (_, path, init) => {
    const cookie = await newSession();
    const mark = output.length;
    const request = await init(cookie);
    const res = await app.fetch(path, { ...request, headers: { cookie, "x-kv-fail": "get" } });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(kv(res).writes).toBe(0);
    await expectPrinted("reading the session from KV failed", mark);
    expect(await stored(cookie)).toEqual({ data: { visits: 1 }, revoked: false });
    expect(await visits(cookie)).toBe(1);
  });

  it("a login whose new record cannot be saved keeps the old session: 503, nothing deleted", async () => {
    const old = await newSession();
    const mark = output.length;
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old, "x-kv-fail": "put@session:" } });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(kv(res)).toEqual({ reads: 2, writes: 2 }); // the new record, tried twice; no delete
    await expectPrinted(/saving the session failed \(attempt 2\)/, mark);
    expect(await stored(old)).toEqual({ data: { visits: 1 }, revoked: false });
    expect(await visits(old)).toBe(1);
  });

  it("a login that cannot end the old session answers 503 and sends no new cookie", async () => {
    const old = await newSession();
    const mark = output.length;
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old, "x-kv-fail": "put@revoked:" } });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    await expectPrinted(/ending the session failed \(attempt 2\)/, mark);
    expect(await visits(old)).toBe(1);
  });

  it("a logout that cannot mark the session ended answers 503 and the old cookie stays what it was", async () => {
    const cookie = await newSession();
    const mark = output.length;
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie, "x-kv-fail": "put,delete" } });
    expect(res.status).toBe(503);
    expect(res.headers.has("set-cookie")).toBe(false);
    await expectPrinted(/ending the session failed \(attempt 2\)/, mark);
    expect(await stored(cookie)).toEqual({ data: { visits: 1 }, revoked: false });
    expect(await visits(cookie)).toBe(1);
  });

  it("a logout whose delete fails still ends the session it says it cleared", async () => {
    const cookie = await newSession();
    const mark = output.length;
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie, "x-kv-fail": "delete" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/kiln_session=; Max-Age=0/);
    expect(await visits(cookie)).toBe(null);
    expect((await stored(cookie)).revoked).toBe(true);
    await expectPrinted(/deleting an ended session's record failed \(attempt 2\)/, mark);
  });
});

describe("destroy() is final", () => {
  it("a change that loaded the session before a logout and writes after it does not bring the record back", async () => {
    const cookie = await newSession();
    // The cart POST reads at once and its write lands 1 s later; the logout starts reading 300 ms in.
    const slowChange = app.fetch("/count", { method: "POST", headers: { cookie, "x-kv-slow-put": "1000" } });
    const logout = app.fetch("/logout", { method: "POST", headers: { cookie, "x-kv-slow-get": "300" } });
    const [change, out] = await Promise.all([slowChange, logout]);
    expect(out.status).toBe(200);
    expect(change.status).toBe(200);
    expect(await change.json()).toEqual({ visits: 2 }); // it did load the session before the logout
    expect(await stored(cookie)).toEqual({ data: null, revoked: true });
    expect(await visits(cookie)).toBe(null);
    expect(change.headers.get("set-cookie")).toMatch(/kiln_session=; Max-Age=0/); // the browser keeps the logout's cleared cookie
  });

  it("a record that comes back anyway (a write from a location that had not seen the logout) is refused", async () => {
    const cookie = await newSession();
    const before = await (await app.mf.getKVNamespace("SESSIONS")).get(recordKey(idOf(cookie)), "text");
    expect((await app.fetch("/logout", { method: "POST", headers: { cookie } })).status).toBe(200);
    await (await app.mf.getKVNamespace("SESSIONS")).put(recordKey(idOf(cookie)), before!);
    expect(await visits(cookie)).toBe(null);
    const res = await app.fetch("/count", { method: "POST", headers: { cookie } });
    expect(idOf(cookieOf(res))).not.toBe(idOf(cookie));
  });

  it("a login's old id stays dead too", async () => {
    const old = await newSession();
    const before = await (await app.mf.getKVNamespace("SESSIONS")).get(recordKey(idOf(old)), "text");
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old } });
    expect(kv(res)).toEqual({ reads: 2, writes: 3 }); // new record, mark, delete
    expect(await stored(old)).toEqual({ data: null, revoked: true });
    await (await app.mf.getKVNamespace("SESSIONS")).put(recordKey(idOf(old)), before!);
    expect(await visits(old)).toBe(null);
    expect(await visits(cookieOf(res))).toBe(1);
  });
});

describe("one spelling per cookie and token", () => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  /** The three other spellings of a 43-character signature (32 bytes): its last character's 2 low bits are unused. */
  const siblings = (text: string) => {
    const at = ALPHABET.indexOf(text.at(-1)!);
    expect(at % 4).toBe(0);
    return ALPHABET.slice(at + 1, at + 4).split("").map((c) => text.slice(0, -1) + c);
  };

  it("a cookie whose signature is spelled another way is anonymous", async () => {
    const cookie = await newSession();
    expect(await visits(cookie)).toBe(1);
    for (const other of siblings(cookie)) expect(await visits(other)).toBe(null);
    expect(await visits(cookie.replace(/\./g, "%2E"))).toBe(null); // percent-encoded: the same after decoding, not the same spelling
  });

  it("a CSRF token spelled another way is refused", async () => {
    const page = await app.fetch("/form");
    const cookie = cookieOf(page);
    const token = await page.text();
    const post = (csrf: string) => app.fetch("/form", { method: "POST", headers: { cookie }, body: new URLSearchParams({ csrf, text: "hi" }) });
    for (const other of siblings(token)) expect((await post(other)).status).toBe(403);
    expect((await post(token)).status).toBe(200);
  });

  const twice: [string, (a: string, b: string) => string][] = [
    ["a space before =", (a, b) => `kiln_session =${a}; kiln_session=${b}`],
    ["spaces around = and the value", (a, b) => `kiln_session=${a}; kiln_session = ${b} `],
    ["a tab", (a, b) => `kiln_session=${a};\tkiln_session\t=${b}`],
  ];
  it.each(twice)("the session cookie named twice (%s) is ambiguous: anonymous", async (_, header) => {
    const a = (await newSession()).split("=")[1];
    const b = (await newSession()).split("=")[1];
    const res = await app.fetch("/count", { headers: { cookie: header(a, b) } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visits: null, user: null });
  });

  it("named once, with spaces a cookie parser trims, it is the session cookie", async () => {
    const value = (await newSession()).split("=")[1];
    expect(await visits(`other=1; kiln_session = ${value}`)).toBe(1);
  });
});

describe("numeric settings", () => {
  it.each([
    ["SESSION_MAX_BYTES", "abc", 'SESSION_MAX_BYTES must be a whole number of bytes from 1024 to 26214400 (got "abc")'],
    ["SESSION_MAX_BYTES", "0x10000", 'SESSION_MAX_BYTES must be a whole number of bytes from 1024 to 26214400 (got "0x10000")'],
    ["SESSION_IDLE_TIMEOUT", "1e5", 'SESSION_IDLE_TIMEOUT must be a whole number of seconds from 60 to 34560000 (got "1e5")'],
    ["SESSION_MAX_AGE", "86400.5", 'SESSION_MAX_AGE must be a whole number of seconds from 60 to 34560000 (got "86400.5")'],
  ])("%s = %j is a configuration error, never a limit switched off", async (name, value, message) => {
    let logged = "";
    const broken = await startApp(ROOT, { bindings: { SESSION_SECRET: SECRET_A, [name]: value, DEBUG: "true" }, onOutput: (t) => (logged += t) });
    try {
      const res = await broken.fetch("/big", { method: "POST" });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain(`SessionConfigError: ${message}`);
      await expectPrinted(message, 0, () => logged);
      expect(await (await broken.fetch("/anon")).text()).toBe("hello");
    } finally {
      await broken.dispose();
    }
  });

  it("whole numbers in range are used", async () => {
    const tuned = await startApp(ROOT, { bindings: { SESSION_SECRET: SECRET_A, SESSION_MAX_BYTES: "2048", SESSION_MAX_AGE: "3600", SESSION_IDLE_TIMEOUT: "600" } });
    try {
      const big = await tuned.fetch("/big", { method: "POST" });
      expect(big.status).toBe(413);
      expect(await big.text()).toMatch(/over the budget of 2048 \(SESSION_MAX_BYTES\)/);
      const res = await tuned.fetch("/count", { method: "POST" });
      expect(res.headers.get("set-cookie")).toMatch(/Max-Age=(3600|3599)/);
    } finally {
      await tuned.dispose();
    }
  });
});
