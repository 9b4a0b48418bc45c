// The dev loop under the real `wrangler dev`, on an app of its own and a port
// of its own. wrangler 4.86 runs the [build] command twice at start-up
// (cloudflare/workers-sdk#7934): kiln build skips the second one, which has
// nothing new to read (src/compiler/build-stamp.ts), and still rebuilds on an
// edit. With DEBUG on, a thrown error's stack names the source file and line,
// not wrangler's bundle: the entry built under wrangler dev hands the error to
// Miniflare, which maps the stack (src/runtime/dev-errors.ts). A build for a
// deploy keeps kiln's own DEBUG answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { bundleEntry, serveScript } from "./helpers/app.js";
import { startWranglerDev, type WranglerDev } from "./helpers/wrangler-dev.js";

const REPO = resolve(import.meta.dirname, "..");
const CLI = join(REPO, "dist/compiler/cli.js");

const BOOM = ["export const onRequestGet = () => {", '  const where = "boom";', "  throw new Error(`kaboom in ${where}`); // line 3", "};", ""].join("\n");

function makeApp(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-dev-loop-"));
  write(root, {
    "functions/index.ts": 'export const onRequestGet = () => new Response("first");\n',
    "functions/boom.ts": BOOM,
    "templates/hello.html": "<p>hello {{ name }}</p>\n",
    "wrangler.toml": [
      'name = "kiln-dev-loop"',
      'main = ".kiln/worker.ts"',
      'compatibility_date = "2026-04-01"',
      "[build]",
      `command = "node ${CLI} build"`,
      'watch_dir = ["functions", "templates"]',
      "",
    ].join("\n"),
    ".dev.vars": 'DEBUG="true"\n',
    ...files,
  });
  return root;
}

function write(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, "g"))?.length ?? 0;
/** kiln build's summary line, one per build that did the work. */
const SUMMARY = /kiln: \d+ routes?, \d+ middleware → /;

describe("wrangler dev", () => {
  let root: string;
  let dev: WranglerDev;
  const log = () => dev.log();
  const until = (check: () => Promise<boolean>, ms: number) => dev.until(check, ms);

  beforeAll(async () => {
    root = makeApp();
    dev = await startWranglerDev(root);
    // Both start-up builds: wrangler's own line says it runs the command a second time.
    await until(async () => count(log(), /\[custom build\] Running: /) >= 2 && (await get("/")).body === "first", 60_000);
    // Time for a second summary line, were the second build to print one.
    await new Promise((r) => setTimeout(r, 1500));
  }, 90_000);

  afterAll(() => {
    dev?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: string }> {
    try {
      const res = await fetch(dev.url(path), { headers, signal: AbortSignal.timeout(10_000) });
      return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
    } catch {
      return { status: 0, type: null, body: "" };
    }
  }

  it("builds once at start-up although wrangler runs the build command twice, and rebuilds on an edit", async () => {
    expect(log()).toContain("The file functions,templates changed, restarting build...");
    expect([count(log(), SUMMARY), log().match(SUMMARY)?.[0]]).toEqual([1, "kiln: 2 routes, 0 middleware → "]);
    write(root, { "functions/index.ts": 'export const onRequestGet = () => new Response("second");\n' });
    await until(async () => (await get("/")).body === "second", 30_000);
    expect(count(log(), SUMMARY)).toBe(2);
  }, 60_000);

  it("with DEBUG on, shows a thrown error with its stack at the source line, once in the terminal", async () => {
    const browser = await get("/boom", {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    });
    expect([browser.status, browser.type]).toEqual([500, expect.stringContaining("text/html")]);
    expect(browser.body).toContain("kaboom in boom");
    expect(browser.body).toMatch(/functions\/boom\.ts:3:\d+/);
    for (const headers of [{ accept: "application/json" }, { accept: "*/*", "user-agent": "curl/8.5.0" }] as Record<string, string>[]) {
      const text = await get("/boom", headers);
      expect(text.status).toBe(500);
      const [first, frame] = text.body.split("\n");
      expect([first, frame]).toEqual(["Error: kaboom in boom", expect.stringMatching(/^ {4}at .*functions\/boom\.ts:3:\d+\)?$/)]);
    }
    // Each of the three errors in the terminal once, mapped: Miniflare logs it, kiln does not log it again.
    await until(async () => count(log(), /\[wrangler:error\] Error: kaboom in boom\n/) === 3, 5_000);
    expect(count(log(), /kaboom in boom/)).toBe(3);
    expect(log()).toMatch(/\[wrangler:error\] Error: kaboom in boom\n {4}at .*functions\/boom\.ts:3:\d+/);
    expect(readFileSync(join(root, ".kiln/worker.ts"), "utf8")).toContain(", dev: devErrorResponse");
  }, 30_000);
});

describe("kiln build with WRANGLER_COMMAND=dev", () => {
  it("does nothing and prints nothing for the same files again; an edit, a broken file and its fix each build", () => {
    const root = makeApp();
    const build = () => {
      const run = spawnSync("node", [CLI, "build"], { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_COMMAND: "dev" } });
      return [run.status, count(run.stdout, SUMMARY), run.stdout === "" && run.stderr === "" ? "silent" : run.stderr.split("\n")[0]];
    };
    try {
      expect(build()).toEqual([0, 1, ""]);
      expect(build()).toEqual([0, 0, "silent"]);
      write(root, { "templates/hello.html": "<p>hi {{ name }}</p>\n" });
      expect(build()).toEqual([0, 1, ""]);
      expect(build()).toEqual([0, 0, "silent"]);
      write(root, { "functions/index.ts": 'export const onRequestGet = () => new Response("x"\n' });
      expect(build()).toEqual([0, 0, "kiln: build failed"]);
      expect(build()).toEqual([0, 0, "kiln: build failed"]);
      write(root, { "functions/index.ts": 'export const onRequestGet = () => new Response("first");\n' });
      expect(build()).toEqual([0, 1, ""]);
      expect(build()).toEqual([0, 0, "silent"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a build outside wrangler dev", () => {
  it("prints its summary each time, and keeps kiln's own DEBUG answer", async () => {
    const root = makeApp();
    const env = { ...process.env };
    delete env.WRANGLER_COMMAND;
    const runs = [1, 2].map(() => spawnSync("node", [CLI, "build"], { cwd: root, encoding: "utf8", env }));
    expect(runs.map((r) => [r.status, count(r.stdout, SUMMARY), r.stderr])).toEqual([
      [0, 1, ""],
      [0, 1, ""],
    ]);
    const entry = join(root, ".kiln/worker.ts");
    expect(readFileSync(entry, "utf8")).not.toContain("devErrorResponse");
    const app = await serveScript(await bundleEntry(entry), root, { bindings: { DEBUG: "true" } });
    try {
      const res = await app.fetch("/boom", { headers: { accept: "*/*" } });
      expect([res.status, res.headers.get("mf-experimental-error-stack")]).toEqual([500, null]);
      expect(await res.text()).toMatch(/^Internal Server Error\n\nError: kaboom in boom\n {4}at /);
      expect(app.output()).toContain("kaboom in boom");
    } finally {
      await app.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
