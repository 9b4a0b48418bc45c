// The demo shop in headless Chromium (Debian's, driven by playwright-core)
// against `wrangler dev`, as a person uses it. Screenshots go to test/.screenshots/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { startWranglerDev, type WranglerDev } from "./helpers/wrangler-dev.js";

const REPO = resolve(import.meta.dirname, "..");
const SHOTS = join(REPO, "test/.screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Without Chromium the test is skipped and its name says what to do; CI (CI=true) requires it.
const SKIP = !existsSync(CHROMIUM) && process.env.CI !== "true";
const HOW = "install Chromium to run it: sudo apt-get install -y chromium, or set CHROMIUM_PATH";
if (SKIP) process.stderr.write(`test/browser.test.ts is skipped: no Chromium at ${CHROMIUM}; ${HOW}\n`);


let dev: WranglerDev;
let browser: Browser;
let page: Page;
let base: string;
/** What the pages printed to the browser's console: the CSP's violations show there. */
const consoleLines: string[] = [];

beforeAll(async () => {
  if (SKIP) return;
  mkdirSync(SHOTS, { recursive: true });
  dev = await startWranglerDev(REPO, ["--persist-to", mkdtempSync(join(tmpdir(), "kiln-state-")), "--var", "SESSION_SECRET:browser-test-secret-of-32-characters!"]);
  base = dev.url("");
  await dev.until(async () => (await fetch(`${base}/robots.txt`).catch(() => undefined))?.ok === true, 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on("console", (message) => consoleLines.push(message.text()));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  dev?.stop();
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
    const cart = page.locator("ul.cart > li");
    expect(await cart.locator(".name").allTextContents()).toEqual(["Stoneware mug", "Raku vase"]);
    expect(await cart.locator("input[type=number]").evaluateAll((fields: HTMLInputElement[]) => fields.map((f) => f.value))).toEqual(["1", "1"]);
    await shot("2-cart");

    await page.click('header form[action="/logout"] button');
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("header nav")).toMatch(/Cart\s*$/); // an empty cart: no count
    await page.goto(`${base}/cart`);
    expect(await page.textContent("main")).toContain("Your cart is empty.");

    const missing = await page.goto(`${base}/no-such-pot`);
    expect(missing!.status()).toBe(404);
    expect(await page.textContent("h1")).toBe("This page is not on the shelf");
    await shot("3-not-found");
  }, 60_000);

  it("sends a visitor who is not logged in from the members' area to the login page and back, and shows the admin page to the demo account", async () => {
    await page.context().clearCookies();
    await page.goto(`${base}/members`);
    await page.waitForURL(`${base}/login?next=%2Fmembers`);
    expect(await page.textContent("main")).toContain("Please log in to see that page.");
    await page.fill('input[name="email"]', "demo@kiln.dev");
    await page.fill('input[name="password"]', "kiln-demo-password");
    await page.click("form.login button");
    await page.waitForURL(`${base}/members`);
    expect(await page.textContent("h1")).toBe("Members");
    await page.click('header a[href="/admin"]');
    await page.waitForURL(`${base}/admin`);
    expect(await page.textContent("main")).toContain("demo@kiln.dev");
    await shot("4-admin");
  }, 60_000);

  it("lets the admin upload a product's picture: a file that is not one is refused beside the field, a PNG shows on the product page", async () => {
    await page.goto(`${base}/admin`); // logged in as the demo account by the test above
    await page.click('a[href="/admin/products/vase/picture"]');
    await page.waitForURL(`${base}/admin/products/vase/picture`);
    await page.setInputFiles('input[name="picture"]', { name: "vase.png", mimeType: "image/png", buffer: Buffer.from("not a picture at all") });
    await page.click("form.upload button");
    expect(await page.textContent("#picture-error")).toBe("That file is not the image/png picture its name says.");
    await shot("5-picture-refused");
    await page.setInputFiles('input[name="picture"]', { name: "vase.png", mimeType: "image/png", buffer: solidPng(120, 80, [0xc0, 0x5a, 0x2b]) });
    await page.click("form.upload button");
    await page.waitForURL(`${base}/products/vase`);
    const size = await page.locator('main img[alt="Raku vase"]').evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0));
    expect(size).toBe(120); // the picture came back from R2 and the browser decoded it
    await shot("6-picture");
  }, 60_000);

  it("looks like one site on every page: the same header, one row on a laptop, nothing wider than a phone; a cart line has its own remove button", async () => {
    await page.context().clearCookies();
    /** Every page, as a visitor who is not logged in and as the demo account (an admin, with a cart) see them. */
    const anonymous: [string, string][] = [["home", "/"], ["catalog", "/products"], ["login", "/login"], ["signup", "/signup"], ["not-found", "/no-such-pot"], ["error", "/500"]];
    const signedIn: [string, string][] = [
      ["home", "/"], ["catalog", "/products"], ["product", "/products/mug"], ["about", "/about"], ["cart", "/cart"], ["members", "/members"],
      ["admin", "/admin"], ["picture", "/admin/products/mug/picture"], ["not-found", "/no-such-pot"], ["error", "/500"],
    ];
    const problems: string[] = [];
    const headers = new Map<string, string>();
    const tour = async (who: string, pages: [string, string][], shots: boolean) => {
      for (const [name, path] of pages) {
        for (const [width, height, label] of [[1280, 800, "desktop"], [1366, 768, "laptop"], [390, 844, "phone"]] as const) {
          await page.setViewportSize({ width, height });
          await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
          const where = `${who} ${name} at ${width}×${height}`;
          if (shots && label !== "laptop") await shot(`${name}-${label}`);
          const seen = await page.evaluate(() => {
            const box = (e: Element) => e.getBoundingClientRect();
            const header = box(document.querySelector("header")!);
            const items = [...document.querySelectorAll("header a, header button, header .user")].filter((e) => box(e).width > 0);
            return {
              styled: [...document.styleSheets].some((sheet) => sheet.href?.endsWith("/style.css")),
              header: document.querySelector("header")!.outerHTML,
              tops: items.map((e) => Math.round(box(e).top + box(e).height / 2)),
              // Outside the window, or sticking out of the header (a row too wide for it).
              outside: items.filter((e) => box(e).right > Math.min(innerWidth, header.right) + 0.5 || box(e).left < Math.max(0, header.left) - 0.5).map((e) => e.textContent!.trim()),
              overlaps: items.flatMap((a, i) =>
                items.slice(i + 1).filter((b) => !b.contains(a) && !a.contains(b)).flatMap((b) => {
                  const [p, q] = [box(a), box(b)];
                  return p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5 ? [`${a.textContent!.trim()} / ${b.textContent!.trim()}`] : [];
                }),
              ),
              scrollWidth: document.documentElement.scrollWidth,
              innerWidth,
            };
          });
          if (!seen.styled) problems.push(`${where}: no style.css`);
          // The header once the page is loaded, for this visitor: every page shows the same one.
          const first = headers.get(`${who} ${label}`) ?? seen.header;
          headers.set(`${who} ${label}`, first);
          if (seen.header !== first) problems.push(`${where}: a header unlike the home page's:\n${seen.header}\n${first}`);
          if (seen.scrollWidth > seen.innerWidth) problems.push(`${where}: ${seen.scrollWidth}px wide, wider than the window`);
          if (seen.outside.length) problems.push(`${where}: outside the window or the header: ${seen.outside.join(", ")}`);
          if (seen.overlaps.length) problems.push(`${where}: header items on top of each other: ${seen.overlaps.join(", ")}`);
          if (label !== "phone" && Math.max(...seen.tops) - Math.min(...seen.tops) > 4) problems.push(`${where}: the header is more than one row`);
        }
      }
    };
    await tour("anonymous", anonymous, false);

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "demo@kiln.dev");
    await page.fill('input[name="password"]', "kiln-demo-password");
    await page.click("form.login button");
    await page.waitForURL(`${base}/`);
    for (const product of ["mug", "vase", "vase"]) {
      await page.goto(`${base}/`);
      await page.click(`form:has(input[value="${product}"]) button`);
      await page.waitForURL(`${base}/cart`);
    }
    const lines = page.locator("ul.cart > li");
    expect(await lines.allTextContents()).toEqual([expect.stringMatching(/Stoneware mug/), expect.stringMatching(/Raku vase/)]);
    for (const line of await lines.all()) expect(await line.textContent()).not.toMatch(/\d/); // the quantity is only in its field
    await lines.filter({ hasText: "Stoneware mug" }).getByRole("button", { name: "Remove" }).click();
    await page.waitForURL(`${base}/cart`);
    expect(await page.textContent("main")).toContain("Removed Stoneware mug");
    expect(await lines.allTextContents()).toEqual([expect.stringMatching(/Raku vase/)]);
    expect(await page.locator("ul.cart input[type=number]").inputValue()).toBe("2");
    expect(await page.textContent("header")).toContain("Cart (2)");

    await page.click('form[action="/checkout"] button');
    await page.waitForURL(/\/orders\//);
    await page.waitForSelector("text=The confirmation we sent", { timeout: 15_000 });
    const order = new URL(page.url()).pathname;
    await page.goto(`${base}/`);
    await page.click(`form:has(input[value="bowl"]) button`);
    await page.waitForURL(`${base}/cart`);
    await tour("signed in", [...signedIn, ["order", order]], true);
    await page.context().clearCookies();
    await tour("anonymous", [["login", "/login"], ["signup", "/signup"]], true);
    expect(problems).toEqual([]);
    expect(headers.get("signed in desktop")).toContain("Signed in as");
    expect(headers.get("signed in desktop")).toContain("Cart (1)");
  }, 240_000);

  it("runs every page above under the strict CSP: the nonce'd script ran, nothing was refused, and an injected inline script is", async () => {
    expect(consoleLines.filter((l) => /Content Security Policy/i.test(l))).toEqual([]);
    const response = await page.goto(`${base}/`);
    const csp = response!.headers()["content-security-policy"];
    expect(csp).toMatch(/script-src 'self' 'nonce-[^']+'/);
    expect(csp).not.toContain("unsafe-inline");
    expect(await page.evaluate(() => document.documentElement.classList.contains("js"))).toBe(true);
    await expect(page.addScriptTag({ content: "window.injected = true;" })).rejects.toThrow();
    expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
    expect(consoleLines.some((l) => /Content Security Policy/i.test(l))).toBe(true);
  }, 60_000);
});

/** A PNG of one colour, made here so the browser has a real picture to decode. */
function solidPng(width: number, height: number, rgb: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const row = Buffer.from([0, ...Array.from({ length: width }, () => rgb).flat()]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]);
}
