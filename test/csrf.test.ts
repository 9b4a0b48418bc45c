// The cross-site check: unsafe requests that a page on another site can make
// a browser send (form posts, or anything with the session cookie) get 403,
// app-wide, unless a file or folder exports `csrf = false`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(resolve(import.meta.dirname, "fixtures/csrf"));
});
afterAll(() => app?.dispose());

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const JSON_BODY = { "content-type": "application/json" };
const COOKIE = { cookie: "theme=dark; kiln_session=anything" };
const CROSS = { "sec-fetch-site": "cross-site" };
const EVIL = { origin: "https://evil.example" };

type Case = [string, string, string, number, Record<string, string>];

const CASES: Case[] = [
  // Login CSRF: a cross-site form post without any session cookie.
  ["a cross-site form post, no cookie (login CSRF)", "POST", "/login", 403, { ...CROSS, ...FORM }],
  ["a form post from another origin, no Fetch Metadata", "POST", "/login", 403, { ...EVIL, ...FORM }],
  ["multipart from another site", "POST", "/login", 403, { ...CROSS, "content-type": "multipart/form-data; boundary=x" }],
  ["text/plain from another site, any spelling", "POST", "/login", 403, { ...CROSS, "content-type": " Text/Plain;charset=utf-8" }],
  ["a post without a content type from another site", "POST", "/login", 403, { ...CROSS }],
  ["a same-site (sibling origin) form post", "POST", "/login", 403, { "sec-fetch-site": "same-site", ...FORM }],
  ["a form post from an opaque origin", "POST", "/login", 403, { origin: "null", ...FORM }],
  ["JSON from another site with the session cookie", "POST", "/api/items", 403, { ...CROSS, ...JSON_BODY, ...COOKIE }],
  ["the session cookie spelt with spaces", "DELETE", "/api/items", 403, { ...CROSS, cookie: "kiln_session =x" }],
  ["the session cookie after a tab", "DELETE", "/api/items", 403, { ...CROSS, cookie: "theme=dark;\t kiln_session=x" }],
  ["a cross-site form post to a path no route serves", "POST", "/nowhere", 403, { ...CROSS, ...FORM }],
  ["a file that turns the check back on inside an opted-out folder", "POST", "/webhooks/admin", 403, { ...CROSS, ...FORM }],
  // Allowed.
  ["a same-origin form post", "POST", "/login", 200, { "sec-fetch-site": "same-origin", ...FORM }],
  ["a form post from this origin, no Fetch Metadata", "POST", "/login", 200, { origin: "http://localhost", ...FORM }],
  ["a form post from no browser (no Origin, no Fetch Metadata)", "POST", "/login", 200, { ...FORM }],
  ["a typed-in navigation (Sec-Fetch-Site: none)", "POST", "/login", 200, { "sec-fetch-site": "none", ...FORM }],
  ["cross-site JSON without the session cookie (a CORS API call)", "POST", "/api/items", 201, { ...CROSS, ...JSON_BODY, cookie: "theme=dark" }],
  ["a cross-site DELETE without the session cookie", "DELETE", "/api/items", 204, { ...CROSS }],
  ["a cookie whose name only ends like the session's", "DELETE", "/api/items", 204, { ...CROSS, cookie: "not_kiln_session=x" }],
  ["a cross-site GET", "GET", "/login", 405, { ...CROSS, ...COOKIE }],
  ["a webhook in a folder that opts out", "POST", "/webhooks/payment", 200, { ...CROSS, ...FORM, ...COOKIE }],
  ["a file that opts out", "POST", "/open", 200, { ...EVIL, ...FORM }],
];

describe("cross-site requests", () => {
  it.each(CASES)("%s: %s %s → %i", async (_, method, path, status, headers) => {
    const res = await app.fetch(path, { method, headers, body: method === "POST" ? new TextEncoder().encode("a=1") : undefined });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(await res.text()).toBe("Forbidden: cross-site request\n");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("answers JSON to clients that ask for it", async () => {
    const res = await app.fetch("/login", { method: "POST", headers: { ...CROSS, ...FORM, accept: "application/json" } });
    expect(await res.json()).toEqual({ error: "Forbidden: cross-site request", status: 403 });
  });
});

describe("an app with nothing a cross-site request could change", () => {
  it("ships no cross-site check, and a cross-site form post still changes nothing: 405 from a GET route", async () => {
    const { makeApp } = await import("./helpers/files.js");
    const { readFileSync } = await import("node:fs");
    const GET = `export const onRequestGet = () => new Response("page");\n`;
    const readOnly = makeApp({ "functions/index.ts": GET, "functions/about.ts": GET });
    const plain = await startApp(readOnly);
    try {
      const res = await plain.fetch("/about", { method: "POST", headers: { ...CROSS, ...FORM }, body: "a=1" });
      expect(res.status).toBe(405);
      expect((await plain.fetch("/about", { headers: CROSS })).status).toBe(200);
    } finally {
      await plain.dispose();
    }
    const { build } = await import("../src/compiler/index.js");
    expect(readFileSync((await build({ root: readOnly })).outFile, "utf8")).not.toContain("csrf.js");
    for (const source of [`export const onRequest = () => new Response("");\n`, `export const onRequestDelete = () => new Response("");\n`]) {
      const root = makeApp({ "functions/index.ts": GET, "functions/x.ts": source });
      const changing = await startApp(root);
      try {
        expect((await changing.fetch("/x", { method: "DELETE", headers: { ...CROSS, ...COOKIE } })).status).toBe(403);
      } finally {
        await changing.dispose();
      }
    }
  });
});
