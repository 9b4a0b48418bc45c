// docs/testing.md shows this file as it is (test/docs.test.ts checks that they match).
// Build with wrangler, as a deploy would, then serve the bundle from workerd with
// Miniflare, with the bindings wrangler.toml declares (KV, Durable Objects, R2, queues).
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const APP = resolve(import.meta.dirname, "../.."); // the folder with wrangler.toml
let mf: Miniflare;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "app-"));
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], { cwd: APP, stdio: "pipe" });
  process.env.WRANGLER_LOG = "warn"; // wrangler's notes ("Using secrets defined in .dev.vars") stay out of the test output
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(APP, "wrangler.toml"));
  mf = new Miniflare({
    ...workerOptions,
    modules: true,
    script: readFileSync(join(out, "worker.js"), "utf8"),
    // KILN_LOG off: the access log would print a line per request into the test output.
    bindings: { ...workerOptions.bindings, SESSION_SECRET: "a-test-secret-of-at-least-32-characters", KILN_LOG: "off" },
    assets: { directory: join(APP, "public"), binding: "ASSETS", routerConfig: { has_user_worker: true } },
  } as never);
}, 60_000);
afterAll(() => mf?.dispose());

it("serves the catalog", async () => {
  const res = await mf.dispatchFetch("http://localhost/api/products/mug");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ name: "Stoneware mug" });
});

it("keeps a cart in the session", async () => {
  const add = await mf.dispatchFetch("http://localhost/cart", { method: "POST", body: new URLSearchParams({ product: "mug" }), redirect: "manual" });
  const cookie = add.headers.get("set-cookie")!.split(";")[0];
  const cart = await mf.dispatchFetch("http://localhost/cart", { headers: { cookie } });
  const page = await cart.text();
  expect(page).toContain("Stoneware mug");
  expect(page).toMatch(/name="quantity"[^>]*value="1"/);
});
