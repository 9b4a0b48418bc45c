// Static files from public/ with Workers Static Assets in miniflare: the
// fallback, the 404 page, guarded folders, and paths that try to get out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "../src/compiler/index.js";
import { runWorkerFirstPatterns, syncWranglerToml } from "../src/compiler/worker-first.js";
import { startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/static");
const SECRET = { SESSION_SECRET: "static-test-secret-at-least-32-chars" };
const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

let app: TestApp;
beforeAll(async () => {
  app = await startApp(ROOT, { bindings: SECRET });
});
afterAll(() => app?.dispose());

describe("files in public/", () => {
  it("are served with their Content-Type and ETag, without running the Worker", async () => {
    const css = await app.fetch("/style.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(css.headers.get("etag")).toBeTruthy();
    expect(css.headers.has("x-worker")).toBe(false);
    const svg = await app.fetch("/img/logo.svg");
    expect(svg.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect((await app.fetch("/")).headers.has("x-worker")).toBe(false);
  });

  it("answer a revalidation with 304 and HEAD without a body", async () => {
    const etag = (await app.fetch("/style.css")).headers.get("etag")!;
    const again = await app.fetch("/style.css", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const head = await app.fetch("/style.css", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("win over a route with the same path, and the build says so", async () => {
    expect(await (await app.fetch("/about")).text()).toContain("static about");
    const { notes } = await build({ root: ROOT, out: join(mkdtempSync(join(tmpdir(), "kiln-")), "w.ts") });
    expect(notes).toContain("functions/about.ts never runs for /about: a file in public/ answers that path first");
  });
});

describe("not found", () => {
  it("gives browsers the app's public/404.html with status 404", async () => {
    const res = await app.fetch("/no/such/page", { headers: BROWSER });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("Nothing here, sorry");
  });

  it("gives browsers that also accept JSON the page, not JSON", async () => {
    const res = await app.fetch("/no/such/page", { headers: { accept: "text/html,application/json;q=0.9" } });
    expect(await res.text()).toContain("Nothing here, sorry");
  });

  it("gives JSON to clients that ask for it, and text to the rest", async () => {
    const json = await app.fetch("/no/such/page", { headers: { accept: "application/json" } });
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ error: "Not Found", status: 404 });
    const plain = await app.fetch("/no/such/page");
    expect(await plain.text()).toBe("Not Found\n");
  });

  it("answers HEAD with the 404 page's headers and no body", async () => {
    const res = await app.fetch("/no/such/page", { method: "HEAD", headers: BROWSER });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("");
  });
});

describe("the error page", () => {
  it("gives browsers the app's public/500.html with status 500, and shows nothing of the error", async () => {
    const res = await app.fetch("/boom", { headers: BROWSER });
    expect(res.status).toBe(500);
    const html = await res.text();
    expect(html).toContain("Our own error page");
    expect(html).not.toContain("secret");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await (await app.fetch("/boom", { headers: { accept: "application/json" } })).json()).toEqual({ error: "Internal Server Error", status: 500 });
    // The error goes to the Worker's log (wrangler tail), never to the visitor.
    expect(app.output()).toContain("Error: secret: the database password");
  });
});

describe("a guarded folder", () => {
  it("needs the Worker first for its folder only", async () => {
    expect((await app.fetch("/docs/a.txt")).headers.has("x-worker")).toBe(false);
    expect((await app.fetch("/members/guide.txt")).headers.get("x-worker")).toBe("1");
  });

  it("refuses its static files without a session and serves them with one", async () => {
    const anonymous = await app.fetch("/members/guide.txt");
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get("x-worker")).toBe("1");
    const login = await app.fetch("/login", { method: "POST" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const member = await app.fetch("/members/guide.txt", { headers: { cookie } });
    expect(member.status).toBe(200);
    expect(await member.text()).toBe("the members guide\n");
  });

  it("gets run_worker_first patterns from the table, kept in wrangler.toml on a line kiln owns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-toml-"));
    const toml = 'name = "x"\n\n[assets]\ndirectory = "public"\nbinding = "ASSETS"\n\n# the vars\n[vars]\nA = "1"\n';
    writeFileSync(join(dir, "wrangler.toml"), toml);
    const table = { routes: [], middleware: [{ segments: [{ kind: "literal", value: "members" }], guardsStaticFiles: true }], mentionsSession: false } as never;
    expect(runWorkerFirstPatterns(table)).toEqual(["/members", "/members/*"]);
    expect(syncWranglerToml(dir, ["/members", "/members/*"])).toBe('wrangler.toml: run_worker_first = ["/members","/members/*"]');
    const written = readFileSync(join(dir, "wrangler.toml"), "utf8");
    expect(written).toContain('binding = "ASSETS"\nrun_worker_first = ["/members","/members/*"] # kiln build');
    expect(written).toContain('# kiln build: from _middleware files that export guardsStaticFiles\n\n# the vars\n[vars]\nA = "1"');
    expect(syncWranglerToml(dir, ["/members", "/members/*"])).toBeUndefined();
    syncWranglerToml(dir, []);
    expect(readFileSync(join(dir, "wrangler.toml"), "utf8")).toBe(toml);
  });

  it("leaves a run_worker_first line the user wrote alone, and says what it lacks", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-toml-"));
    const toml = '[assets]\ndirectory = "public"\nrun_worker_first = ["/api/*"]\n';
    writeFileSync(join(dir, "wrangler.toml"), toml);
    expect(syncWranglerToml(dir, ["/members", "/members/*"])).toMatch(/add \["\/members","\/members\/\*"\]/);
    expect(readFileSync(join(dir, "wrangler.toml"), "utf8")).toBe(toml);
  });
});

describe("no way out of public/", () => {
  const HOSTILE = [
    "/../wrangler.toml",
    "/%2e%2e/wrangler.toml",
    "/%2e%2e%2fwrangler.toml",
    "/..%2f..%2fwrangler.toml",
    "/docs/..%2f..%2ffunctions/login.ts",
    "/docs/%2e%2e%2f%2e%2e%2ffunctions%2flogin.ts",
    "/%5c..%5cwrangler.toml",
    "/..\\..\\functions\\login.ts",
    "//evil.example",
    "//evil.example/",
    "/\\evil.example",
    "/%2f%2fevil.example",
    "/img//logo.svg",
    "/style.css%00.txt",
    "/%00",
    "/%zz",
    "/docs/%E0%A4%A",
    `/${"a".repeat(8000)}`,
    `/${"a/".repeat(2000)}`,
  ];

  it.each(HOSTILE)("%s: 400 or 404 (or the file it normalises to), never a file outside public/, never a 500", async (path) => {
    for (const headers of [{}, BROWSER]) {
      const res = await app.fetch(`http://localhost${path}`, { headers, redirect: "manual" });
      expect(res.status).not.toBe(500);
      const body = await res.text();
      expect(body).not.toContain("onRequest");
      expect(body).not.toContain("SESSION_SECRET");
      const location = res.headers.get("location");
      if (location) {
        expect(location.startsWith("//")).toBe(false);
        expect(new URL(location, "http://localhost").host).toBe("localhost");
      }
      if (res.status === 200) expect(["/img//logo.svg"]).toContain(path);
      else expect([307, 308, 400, 404]).toContain(res.status);
    }
  });
});

describe("folder listings", () => {
  it("are off by default", async () => {
    expect((await app.fetch("/docs/")).status).toBe(404);
  });

  it("list a folder without index.html when kiln build --listings is on", async () => {
    const listed = await startApp(ROOT, { bindings: SECRET, listings: true });
    try {
      const res = await listed.fetch("/docs/");
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<a href="/docs/a.txt">a.txt</a>');
      expect(html).toContain('<a href="/docs/b.txt">b.txt</a>');
      expect((await listed.fetch("/docs/a.txt")).status).toBe(200);
    } finally {
      await listed.dispose();
    }
  });

  it("never list or serve a guarded folder through an encoded slash", async () => {
    const listed = await startApp(ROOT, { bindings: SECRET, listings: true });
    try {
      expect((await listed.fetch("/members/")).status).toBe(403);
      for (const path of ["/members%2F", "/members%2f", "/members%2Fguide.txt", "/members%2fguide.txt", "/members%5Cguide.txt", "/docs/..%2Fmembers%2Fguide.txt"]) {
        const res = await listed.fetch(path);
        expect([403, 404], path).toContain(res.status);
        expect(await res.text(), path).not.toMatch(/members guide|Index of/);
      }
    } finally {
      await listed.dispose();
    }
  });
});
