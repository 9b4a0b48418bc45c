// The demo under `wrangler dev --test-scheduled`, as `npm start` runs it: the
// real wrangler starts it with its cron, queue and Durable Objects (it refuses
// to start when a bound class is not exported), and the checkout, the order
// queue and the nightly job work end to end. A copy of the demo, in its own
// folder and port, so the repository's own .kiln and .wrangler stay untouched.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startWranglerDev, type WranglerDev } from "./helpers/wrangler-dev.js";

const REPO = resolve(import.meta.dirname, "..");

let root: string;
let dev: WranglerDev;

beforeAll(async () => {
  mkdirSync(join(REPO, "test/.tmp"), { recursive: true });
  // Inside the repository, so the demo's `import … from "kiln"` resolves as in the repository.
  root = mkdtempSync(join(REPO, "test/.tmp/demo-dev-"));
  for (const dir of ["functions", "templates", "public"]) cpSync(join(REPO, dir), join(root, dir), { recursive: true });
  const toml = readFileSync(join(REPO, "wrangler.toml"), "utf8").replace("node dist/compiler/cli.js build", `node ${join(REPO, "dist/compiler/cli.js")} build`);
  writeFileSync(join(root, "wrangler.toml"), toml);
  writeFileSync(join(root, ".dev.vars"), "SESSION_SECRET=demo-dev-test-secret-of-at-least-32-chars\n");
  dev = await startWranglerDev(root, ["--test-scheduled"]);
  await until(async () => (await get("/")).status === 200, 60_000);
}, 90_000);

afterAll(() => {
  dev?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

let cookie = "";
async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: string; location: string | null }> {
  try {
    const res = await fetch(dev.url(path), { ...init, redirect: "manual", headers: { ...(init.headers as object), cookie } });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return { status: res.status, body: await res.text(), location: res.headers.get("location") };
  } catch {
    return { status: 0, body: "", location: null };
  }
}

const post = (path: string, form: Record<string, string>) =>
  get(path, { method: "POST", body: new URLSearchParams(form), headers: { "sec-fetch-site": "same-origin" } });
const stock = async (product: string) => (JSON.parse((await get(`/api/stock/${product}`)).body) as { left: number }).left;

const until = (check: () => Promise<boolean>, ms: number) => dev.until(check, ms);

describe("the demo under wrangler dev --test-scheduled", () => {
  it("checks out through the Stock Durable Object and the order queue, and restocks on /__scheduled", async () => {
    expect(await stock("mug")).toBe(5);
    await post("/cart", { product: "mug", quantity: "2" });
    const checkout = await post("/checkout", {});
    expect(checkout.location).toMatch(/^\/orders\/[0-9a-f-]{36}$/);
    expect(await stock("mug")).toBe(3);
    // wrangler's local queue delivers within max_batch_timeout (1 s).
    await until(async () => (await get(checkout.location!)).body.includes("<li>Stoneware mug × 2: $36</li>"), 15_000);
    const cron = await get("/__scheduled?cron=0+3+*+*+*");
    expect(cron.status).toBe(200);
    expect(await stock("mug")).toBe(5);
  }, 60_000);

  it("logs in through the KilnRateLimiter Durable Object that kiln build exported, and throttles guesses with 429", async () => {
    cookie = "";
    const email = `dev-${Date.now()}@example.com`;
    expect((await post("/signup", { email, password: "long enough" })).status).toBe(303);
    cookie = "";
    const login = await post("/login?next=%2Fmembers", { email, password: "long enough" });
    expect(login.location).toBe("/members");
    expect((await get("/members")).body).toContain("<h1>Members</h1>");
    cookie = "";
    const guesses = await Promise.all(Array.from({ length: 21 }, () => fetch(dev.url("/login"), { method: "POST", body: new URLSearchParams({ email, password: "guess" }) })));
    expect(guesses.map((r) => r.status).filter((s) => s === 429)).toHaveLength(2);
  }, 60_000);
});
