// The app as it deploys: wrangler builds it (running kiln build), and workerd
// serves the bundle through Miniflare, with a real KV namespace and static files.
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";

const APP = resolve(import.meta.dirname, "..");
let mf: Miniflare;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "app-"));
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], { cwd: APP, stdio: "pipe" });
  mf = new Miniflare({
    modules: true,
    script: readFileSync(join(out, "worker.js"), "utf8"),
    compatibilityDate: "2026-04-01",
    // Every binding of wrangler.toml that a test reaches: add yours here.
    kvNamespaces: ["SESSIONS"],
    bindings: { SESSION_SECRET: "a-test-secret-of-at-least-32-characters" },
    assets: { directory: join(APP, "public"), binding: "ASSETS", routerConfig: { has_user_worker: true } },
  });
}, 120_000);
afterAll(() => mf?.dispose());

const get = (path: string, headers: Record<string, string> = {}) => mf.dispatchFetch(`http://localhost${path}`, { headers });

it("counts visits in the session", async () => {
  const first = await get("/");
  expect(await first.text()).toContain("Visit 1 in this session.");
  const cookie = first.headers.get("set-cookie")!.split(";")[0];
  expect(await (await get("/", { cookie })).text()).toContain("Visit 2 in this session.");
});

it("greets by name, escaped", async () => {
  expect(await (await get("/hello/%3Cb%3E")).text()).toContain("Hello, &lt;b&gt;!");
});

it("answers the API", async () => {
  expect(await (await get("/api/status")).json()).toEqual({ ok: true });
});

it("answers a browser's unknown path with the 404 page", async () => {
  const res = await get("/no/such/page", { accept: "text/html" });
  expect(res.status).toBe(404);
  expect(await res.text()).toContain("Nothing lives at this address.");
});
