// The package as a user gets it: packed, installed into an app that has never
// seen this repository, built with `npx kiln build`, deployed with wrangler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bundleEntry, serveScript } from "./helpers/app.js";
import { freePort } from "./helpers/port.js";
import { startWranglerDev, type WranglerDev } from "./helpers/wrangler-dev.js";

const REPO = resolve(import.meta.dirname, "..");
const WRANGLER = join(REPO, "node_modules/.bin/wrangler");
const quiet = { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

function write(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, ".."), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

const APP_FILES = {
  "functions/index.ts": 'export const onRequestGet = () => new Response("installed home");\n',
  "functions/users/[id].ts":
    'import type { Handler } from "kiln";\nexport const onRequestGet: Handler<"users/[id].ts"> = ({ params }) => new Response(`user ${params.id}`);\n',
  "public/robots.txt": "User-agent: *\n",
  "templates/hello.html": "<p>hello {{ name }}</p>\n",
  "functions/hello.ts": 'export const onRequestGet = ({ render }) => render("hello.html", { name: "you" });\n',
};

let packed: string | undefined;
/** kiln as `npm pack` makes it, once for every test here. */
function tarball(): string {
  const packDir = mkdtempSync(join(tmpdir(), "kiln-pack-"));
  packed ??= join(packDir, execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: REPO, encoding: "utf8" }).trim().split("\n").pop()!);
  return packed;
}

describe("the packed package in a fresh app", () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "kiln-app-"));
    write(app, { ...APP_FILES, "package.json": JSON.stringify({ name: "fresh-app", private: true, type: "module" }) });
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball()], { cwd: app, stdio: "pipe" });
  }, 180_000);

  it("builds with npx kiln build and serves requests from workerd", async () => {
    const out = execFileSync("npx", ["kiln", "build"], { cwd: app, encoding: "utf8" });
    expect(out).toContain("kiln: 3 routes");
    const entry = readFileSync(join(app, ".kiln/worker.ts"), "utf8");
    expect(entry).toContain("../node_modules/kiln/dist/runtime/index.js");
    const served = await serveScript(await bundleEntry(join(app, ".kiln/worker.ts")), app);
    try {
      expect(await (await served.fetch("/")).text()).toBe("installed home");
      expect(await (await served.fetch("/users/ada")).text()).toBe("user ada");
      expect(await (await served.fetch("/robots.txt")).text()).toBe("User-agent: *\n");
      expect((await served.fetch("/missing")).status).toBe(404);
    } finally {
      await served.dispose();
    }
  });

  it("prints its route table with npx kiln routes", () => {
    const out = execFileSync("npx", ["kiln", "routes"], { cwd: app, encoding: "utf8" });
    expect(out).toContain("/users/:id");
  });
});

describe("npx kiln new, from the packed package", () => {
  let app: string;
  // The user's own npm would fetch what its cache lacks; the test takes what the cache has.
  const env = { ...process.env, ...quiet, npm_config_prefer_offline: "true" };
  beforeAll(() => {
    const home = mkdtempSync(join(tmpdir(), "kiln-home-"));
    write(home, { "package.json": JSON.stringify({ name: "home", private: true }) });
    execFileSync("npm", ["install", "--no-audit", "--no-fund", tarball()], { cwd: home, env, stdio: "pipe" });
    execFileSync("npx", ["kiln", "new", "my-app"], { cwd: home, env, stdio: "pipe" });
    app = join(home, "my-app");
  }, 300_000);

  it("depends on the tarball it was made with", () => {
    expect(JSON.parse(readFileSync(join(app, "package.json"), "utf8")).dependencies.kiln).toBe(`file:${tarball()}`);
  });

  it("passes its own npm test", () => {
    const run = spawnSync("npm", ["test"], { cwd: app, env, encoding: "utf8" });
    expect({ status: run.status, output: run.status ? run.stdout + run.stderr : "" }).toEqual({ status: 0, output: "" });
    expect(run.stdout).toMatch(/Tests\s+4 passed/);
  }, 180_000);

  it("serves its pages and its 404 page with npm run dev", async () => {
    const port = await freePort();
    const dev = spawn("npm", ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1"], { cwd: app, env, detached: true, stdio: "ignore" });
    try {
      const deadline = Date.now() + 60_000;
      let home = "";
      while (!home.includes("It works") && Date.now() < deadline) {
        home = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => "");
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(home).toContain("<title>Home · my-app</title>");
      const missing = await fetch(`http://127.0.0.1:${port}/nope`, { headers: { accept: "text/html" } });
      expect([missing.status, await missing.text()]).toEqual([404, expect.stringContaining("Nothing lives at this address.")]);
    } finally {
      // npm runs wrangler, which runs workerd: end the whole group.
      process.kill(-dev.pid!, "SIGTERM");
    }
  }, 90_000);
});

/** An app whose wrangler.toml runs this repository's kiln, as `npx kiln build` would. */
function wranglerApp(): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-wrangler-"));
  write(root, {
    ...APP_FILES,
    "wrangler.toml": [
      'name = "kiln-test-app"',
      'main = ".kiln/worker.ts"',
      'compatibility_date = "2026-04-01"',
      "[build]",
      `command = "node ${join(REPO, "dist/compiler/cli.js")} build"`,
      'watch_dir = ["functions", "templates"]',
      "[assets]",
      'directory = "public"',
      'binding = "ASSETS"',
      "",
    ].join("\n"),
  });
  return root;
}

describe("wrangler", () => {
  it("wrangler deploy --dry-run --outdir produces a bundle that serves the routes", async () => {
    const root = wranglerApp();
    const outdir = join(root, "dist");
    execFileSync(WRANGLER, ["deploy", "--dry-run", "--outdir", outdir], { cwd: root, env: { ...process.env, ...quiet }, stdio: "pipe" });
    const served = await serveScript(readFileSync(join(outdir, "worker.js"), "utf8"), root);
    try {
      expect(await (await served.fetch("/users/7")).text()).toBe("user 7");
    } finally {
      await served.dispose();
    }
  }, 60_000);

  describe("wrangler dev", () => {
    let root: string;
    let dev: WranglerDev;
    const until = (check: () => Promise<boolean>, ms: number) => dev.until(check, ms);
    beforeAll(async () => {
      root = wranglerApp();
      dev = await startWranglerDev(root);
      await until(async () => (await get("/")).body === "installed home", 45_000);
    }, 60_000);
    afterAll(() => {
      dev?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
      try {
        // A request that wrangler holds while the build is broken must not hold the test.
        const res = await fetch(dev.url(path), { headers, signal: AbortSignal.timeout(10_000) });
        return { status: res.status, body: await res.text() };
      } catch {
        return { status: 0, body: "" };
      }
    }

    it("picks up an added route file and an edited one without a restart", async () => {
      expect((await get("/added")).status).toBe(404);
      write(root, { "functions/added.ts": 'export const onRequestGet = () => new Response("added");\n' });
      await until(async () => (await get("/added")).body === "added", 30_000);
      write(root, { "functions/added.ts": 'export const onRequestGet = () => new Response("edited");\n' });
      await until(async () => (await get("/added")).body === "edited", 30_000);
      rmSync(join(root, "functions/added.ts"));
      await until(async () => (await get("/added")).status === 404, 30_000);
    }, 120_000);

    it("picks up an edited template without a restart", async () => {
      expect((await get("/hello")).body).toBe("<p>hello you</p>\n");
      write(root, { "templates/hello.html": "<p>goodbye {{ name }}</p>\n" });
      await until(async () => (await get("/hello")).body === "<p>goodbye you</p>\n", 30_000);
    }, 60_000);

    it("answers with the build error while a route file is broken, and with the app once it is fixed", async () => {
      write(root, { "functions/broken.ts": 'export const onRequestGet = () => {\n  return new Response("x"\n};\n' });
      const problem = 'functions/broken.ts: syntax error at line 3, column 1: Expected ")" but found "}"';
      await until(async () => (await get("/", { accept: "application/json" })).status === 500, 30_000);
      expect(JSON.parse((await get("/users/1", { accept: "application/json" })).body)).toEqual({ error: "kiln build failed", status: 500, problems: [problem] });
      const page = await get("/", { accept: "text/html" });
      expect(page.body).toContain("<h1>kiln build failed</h1>");
      expect(page.body).toContain("functions/broken.ts: syntax error at line 3, column 1");
      rmSync(join(root, "functions/broken.ts"));
      await until(async () => (await get("/")).body === "installed home", 30_000);
    }, 90_000);
  });
});

