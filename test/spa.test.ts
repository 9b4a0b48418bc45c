// Single-page apps, as Pages serves them: with an index.html and no 404.html
// in public/, a browser navigation that nothing serves gets index.html.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "../src/compiler/index.js";
import { startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/spa");

let app: TestApp;
beforeAll(async () => {
  app = await startApp(ROOT);
});
afterAll(() => app?.dispose());

const BROWSER = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", accept: "text/html,*/*;q=0.8" };

/** A browser's page load. Node's fetch always sends Sec-Fetch-Mode: cors, so this goes through node:http. */
async function navigate(target: TestApp, path: string, method = "GET", headers: Record<string, string> = BROWSER): Promise<{ status: number; body: string }> {
  const url = new URL(path, await target.mf.ready);
  return new Promise((done, fail) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => done({ status: res.statusCode!, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("a single-page app", () => {
  it("gives a browser navigation that nothing serves index.html, with 200", async () => {
    for (const path of ["/", "/dashboard", "/deep/client/route", "/users/1/edit"]) {
      const page = await navigate(app, path);
      expect(page.status, path).toBe(200);
      expect(page.body, path).toContain("<title>The app</title>");
    }
    expect((await navigate(app, "/settings", "HEAD")).status).toBe(200);
  });

  it("gives the same to a client that sends no Fetch Metadata and does not ask for JSON (curl)", async () => {
    const res = await navigate(app, "/dashboard", "GET", { accept: "*/*" });
    expect(res.status).toBe(200);
    expect(res.body).toContain("<title>The app</title>");
  });

  it("keeps routes, their own 404s and 405s, and the files", async () => {
    expect(await navigate(app, "/users/1")).toEqual({ status: 200, body: "user 1" });
    expect(await navigate(app, "/users/2")).toEqual({ status: 404, body: "no such user" });
    expect((await navigate(app, "/submit")).status).toBe(405);
    expect((await navigate(app, "/assets/app.js")).body).toContain("location.pathname");
  });

  it("keeps 404 for scripts' requests, API clients that ask for JSON, missing files and other methods", async () => {
    expect((await app.fetch("/dashboard")).status).toBe(404); // fetch(): Sec-Fetch-Mode: cors
    const json = await navigate(app, "/api/nothing", "GET", { accept: "application/json" });
    expect(json.status).toBe(404);
    expect(JSON.parse(json.body)).toEqual({ error: "Not Found", status: 404 });
    const script = { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script", accept: "*/*" };
    expect((await navigate(app, "/assets/missing.js", "GET", script)).status).toBe(404);
    expect((await navigate(app, "/dashboard", "POST", { accept: "*/*" })).status).toBe(404);
  });

  it("is chosen by kiln build, which says so, and an app can turn it off or on", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kiln-spa-")), "w.ts");
    expect((await build({ root: ROOT, out })).notes).toContain(
      "not found: browsers get public/index.html with 200 (a single-page app: there is no public/404.html; --no-spa turns it off)",
    );
    expect((await build({ root: ROOT, out, spa: false })).notes.some((n) => n.startsWith("not found"))).toBe(false);
    // An index.html beside a 404.html is a site with pages, not a single-page app.
    const site = resolve(import.meta.dirname, "fixtures/static");
    expect((await build({ root: site, out })).notes).toContain("not found: public/404.html with 404");
    const off = await startApp(ROOT, { spa: false });
    try {
      expect((await navigate(off, "/dashboard")).status).toBe(404);
    } finally {
      await off.dispose();
    }
    const forced = await startApp(resolve(import.meta.dirname, "fixtures/static"), { spa: true, bindings: { SESSION_SECRET: "x".repeat(32) } });
    try {
      const page = await navigate(forced, "/no/such/page");
      expect(page.status).toBe(200);
      expect(page.body).toContain("<h1>");
    } finally {
      await forced.dispose();
    }
  });
});
