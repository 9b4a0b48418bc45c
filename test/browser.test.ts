// The demo shop in headless Chromium (Debian's, driven by playwright-core)
// against `wrangler dev`, as a person uses it. Screenshots go to test/.screenshots/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort } from "./helpers/port.js";

const REPO = resolve(import.meta.dirname, "..");
const SHOTS = join(REPO, "test/.screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Without Chromium the test is skipped and its name says what to do; CI (CI=true) requires it.
const SKIP = !existsSync(CHROMIUM) && process.env.CI !== "true";
const HOW = "install Chromium to run it: sudo apt-get install -y chromium, or set CHROMIUM_PATH";
if (SKIP) process.stderr.write(`test/browser.test.ts is skipped: no Chromium at ${CHROMIUM}; ${HOW}\n`);


let dev: ChildProcess;
let browser: Browser;
let page: Page;
let base: string;
let log = "";

beforeAll(async () => {
  if (SKIP) return;
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(
    join(REPO, "node_modules/.bin/wrangler"),
    ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", mkdtempSync(join(tmpdir(), "kiln-state-")), "--var", "SESSION_SECRET:browser-test-secret-of-32-characters!"],
    { cwd: REPO, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  dev.stdout!.on("data", (d) => (log += d));
  dev.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/robots.txt`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  dev?.kill("SIGTERM");
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe.skipIf(SKIP)(`the demo shop in a browser${SKIP ? ` (skipped: ${HOW})` : ""}`, () => {
  it("signs up, logs in, keeps a cart over a reload, logs out, and shows its 404 page", async () => {
    await page.goto(`${base}/signup`);
    await page.fill('input[name="email"]', "grace@example.com");
    await page.fill('input[name="password"]', "hopper-1906");
    await page.click("form.login button");
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("header")).toContain("Signed in as grace@example.com");
    await shot("1-signed-up");

    await page.click('header form[action="/logout"] button');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "grace@example.com");
    await page.fill('input[name="password"]', "hopper-1906");
    await page.click("form.login button");
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("main")).toContain("Welcome back!");

    for (const product of ["mug", "vase"]) {
      await page.goto(`${base}/`);
      await page.click(`form:has(input[value="${product}"]) button`);
      await page.waitForURL(`${base}/cart`);
    }
    await page.reload();
    const cart = await page.textContent("main");
    expect(cart).toContain("Stoneware mug × 1");
    expect(cart).toContain("Raku vase × 1");
    await shot("2-cart");

    await page.click('header form[action="/logout"] button');
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("header")).toContain("Cart (0)");
    await page.goto(`${base}/cart`);
    expect(await page.textContent("main")).toContain("Your cart is empty.");

    const missing = await page.goto(`${base}/no-such-pot`);
    expect(missing!.status()).toBe(404);
    expect(await page.textContent("h1")).toBe("This page is not on the shelf");
    await shot("3-not-found");
  }, 60_000);
});
