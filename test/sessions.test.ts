// Sessions in workerd, built by the real `kiln build`, against miniflare's KV:
// what only the platform can show. The KV binding is the store as it is (no
// adapter), so the operation counts and keys asserted here are KV's own; the
// built entry wires sessions in; workerd's WebCrypto signs what node:crypto
// verifies; a KV failure is caught and reported inside workerd. The session
// rules themselves (time, faults, secrets, settings, bad cookies) are tested
// in-process, with a clock and an in-memory store: src/runtime/session.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, createHmac } from "node:crypto";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/sessions");
const SECRET_A = "a".repeat(16) + "-first-secret-32+chars";

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

async function visits(cookie: string): Promise<unknown> {
  const res = await app.fetch("/count", { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { visits: unknown }).visits;
}

const newSession = async () => cookieOf(await app.fetch("/count", { method: "POST" }));

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
async function expectPrinted(expected: string | RegExp, mark: number): Promise<void> {
  const seen = () => (typeof expected === "string" ? output.slice(mark).includes(expected) : expected.test(output.slice(mark)));
  for (let waited = 0; waited < 5000 && !seen(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(output.slice(mark)).toMatch(expected);
}

describe("KV only when the session is used and changed", () => {
  it("anonymous requests make no KV call, no record and no cookie", async () => {
    for (const path of ["/anon", "/count", "/anon", "/count"]) {
      const res = await app.fetch(path);
      expect(kv(res)).toEqual({ reads: 0, writes: 0 });
      expect(res.headers.has("set-cookie")).toBe(false);
      await res.arrayBuffer();
    }
    const { keys } = await (await app.mf.getKVNamespace("SESSIONS")).list();
    expect(keys.filter((k) => k.name.startsWith("session:"))).toHaveLength(0);
  });

  it("a request that never touches the session reads nothing, even with a cookie", async () => {
    const res = await app.fetch("/anon", { headers: { cookie: await newSession() } });
    expect(kv(res)).toEqual({ reads: 0, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("a read-only request costs two reads (the record and its revocation mark), no write and no Set-Cookie", async () => {
    const res = await app.fetch("/count", { headers: { cookie: await newSession() } });
    expect(kv(res)).toEqual({ reads: 2, writes: 0 });
    expect(res.headers.has("set-cookie")).toBe(false);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(await res.json()).toEqual({ visits: 1, user: null });
  });

  it("a change costs one write (and a read of the revocation mark after it); workerd signs as node:crypto verifies", async () => {
    const first = await app.fetch("/count", { method: "POST" });
    expect(kv(first)).toEqual({ reads: 0, writes: 1 });
    expect(first.headers.get("set-cookie")).toMatch(/^kiln_session=[^;]+; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    const [id, issued, signature] = cookieOf(first).split("=")[1].split(".");
    expect(signature).toBe(createHmac("sha256", SECRET_A).update(`kiln_session=${id}.${issued}`).digest("base64url"));
    const second = await app.fetch("/count", { method: "POST", headers: { cookie: cookieOf(first) } });
    expect(kv(second)).toEqual({ reads: 3, writes: 1 });
    expect(await second.json()).toEqual({ visits: 2 });
  });
});

describe("the record in KV", () => {
  it("is kept under a hash of the id, never the id, and expires at the absolute deadline", async () => {
    const cookie = await newSession();
    const { keys } = await (await app.mf.getKVNamespace("SESSIONS")).list();
    expect(keys.some((k) => k.name.includes(idOf(cookie)))).toBe(false);
    const key = keys.find((k) => k.name === recordKey(idOf(cookie)));
    const week = Date.now() / 1000 + 7 * 24 * 3600;
    expect(Math.abs(key!.expiration! - week)).toBeLessThan(60);
  });

  it("a login writes the new record, the old id's mark, and deletes the old record: the old id stays dead", async () => {
    const old = await newSession();
    const before = await (await app.mf.getKVNamespace("SESSIONS")).get(recordKey(idOf(old)), "text");
    const res = await app.fetch("/login", { method: "POST", headers: { cookie: old } });
    expect(kv(res)).toEqual({ reads: 2, writes: 3 });
    expect(await stored(old)).toEqual({ data: null, revoked: true });
    expect(await stored(cookieOf(res))).toEqual({ data: { visits: 1, user: "ada" }, revoked: false });
    await (await app.mf.getKVNamespace("SESSIONS")).put(recordKey(idOf(old)), before!);
    expect(await visits(old)).toBe(null);
    expect(await visits(cookieOf(res))).toBe(1);
  });

  it("a logout is the mark and the delete: two writes", async () => {
    const cookie = await newSession();
    const res = await app.fetch("/logout", { method: "POST", headers: { cookie } });
    expect(kv(res)).toEqual({ reads: 2, writes: 2 });
    expect(res.headers.get("set-cookie")).toBe("kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    expect(await stored(cookie)).toEqual({ data: null, revoked: true });
  });
});

describe("KV under load and failure", () => {
  it("a KV read that fails gives an anonymous session and a warning in workerd's log", async () => {
    const cookie = await newSession();
    const mark = output.length;
    const res = await app.fetch("/count", { headers: { cookie, "x-kv-fail": "get" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ visits: null, user: null });
    expect(res.headers.has("set-cookie")).toBe(false);
    await expectPrinted("kiln: reading the session from KV failed; the request goes on without it and may not change it: Error: KV GET failed: 503 Service Unavailable", mark);
  });

  it("50 parallel changes to one session: each reads twice, writes once and checks the mark once; the last write stays", async () => {
    const cookie = await newSession();
    const results = await Promise.all(Array.from({ length: 50 }, () => app.fetch("/count", { method: "POST", headers: { cookie } })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(results.map(kv)).toEqual(Array(50).fill({ reads: 3, writes: 1 }));
    // Which write lands last is KV's doing; what it holds is one of the counts a response reported.
    const reported = await Promise.all(results.map(async (r) => ((await r.json()) as { visits: number }).visits));
    const { data } = await stored(cookie);
    expect(reported).toContain((data as { visits: number }).visits);
  });
});
