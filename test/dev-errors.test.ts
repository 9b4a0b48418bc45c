// What the dev loop says about mistakes. A build that fails under wrangler dev
// (which sets WRANGLER_COMMAND=dev for its custom builds) serves the error;
// everywhere else it fails. test/package.test.ts checks it under wrangler dev.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { bundleEntry, serveScript } from "./helpers/app.js";

const CLI = resolve(import.meta.dirname, "../dist/compiler/cli.js");

function brokenApp(): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-broken-"));
  const files: Record<string, string> = {
    "functions/index.ts": 'export const onRequestGet = () => {\n  return new Response("<x>"\n};\n',
    // workerd will not start a Worker that lacks a class its config binds.
    "wrangler.toml": 'name = "broken"\nmain = ".kiln/worker.ts"\n[[durable_objects.bindings]]\nname = "RATE_LIMITS"\nclass_name = "KilnRateLimiter"\n',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

const build = (root: string, WRANGLER_COMMAND?: string) =>
  spawnSync("node", [CLI, "build"], { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_COMMAND } });

const PROBLEM = 'functions/index.ts: syntax error at line 3, column 1: Expected ")" but found "}"';

describe("a broken build under wrangler dev", () => {
  it("exits 0 with the error printed, and every request gets the error: HTML for browsers, JSON for API clients, text for curl", async () => {
    const root = brokenApp();
    const run = build(root, "dev");
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`kiln: build failed\n  ${PROBLEM}\n`);
    expect(run.stderr).toContain("until the next build, wrangler dev answers every request with this error");
    // wrangler dev refuses an entry without it: "Your Worker depends on the following Durable Objects, which are not exported".
    expect(readFileSync(join(root, ".kiln/worker.ts"), "utf8")).toMatch(/^export class KilnRateLimiter /m);
    const app = await serveScript(await bundleEntry(join(root, ".kiln/worker.ts")), root, { durableObjects: { RATE_LIMITS: "KilnRateLimiter" } });
    try {
      const page = await app.fetch("/any/path", { headers: { accept: "text/html,application/xhtml+xml" } });
      expect([page.status, page.headers.get("content-type"), page.headers.get("cache-control")]).toEqual([500, "text/html; charset=utf-8", "no-store"]);
      const html = await page.text();
      expect(html).toContain("<h1>kiln build failed</h1>");
      expect(html).toContain("functions/index.ts: syntax error at line 3, column 1: Expected &#34;)&#34; but found &#34;}&#34;");
      const api = await app.fetch("/api/x", { method: "POST", headers: { accept: "application/json" } });
      expect([api.status, await api.json()]).toEqual([500, { error: "kiln build failed", status: 500, problems: [PROBLEM] }]);
      expect(await (await app.fetch("/", { headers: { accept: "*/*" } })).text()).toBe(`kiln build failed\n  ${PROBLEM}\n`);
    } finally {
      await app.dispose();
    }
  });

  it("fails as before anywhere else: a deploy, CI, a terminal", () => {
    for (const command of ["deploy", undefined]) {
      const root = brokenApp();
      const run = build(root, command);
      expect([run.status, run.stderr]).toEqual([1, `kiln: build failed\n  ${PROBLEM}\n`]);
      expect(existsSync(join(root, ".kiln/worker.ts"))).toBe(false);
    }
  });
});

describe("a handler that answers with something that is not a Response", () => {
  it("is a 500 whose error names the file, the export and the route, also behind a middleware that reads next()'s headers", async () => {
    const { startApp } = await import("./helpers/app.js");
    const root = mkdtempSync(join(tmpdir(), "kiln-not-response-"));
    const files: Record<string, string> = {
      "functions/bare.ts": 'export const onRequestGet = () => { new Response("forgot"); };\n',
      "functions/api/_middleware.ts": "export const onRequest = async ({ next }) => {\n  const r = await next();\n  r.headers.set('x-api', '1');\n  return r;\n};\n",
      "functions/api/items/[id].ts": "export const onRequestGet = [async ({ next }) => next(), async () => ({ items: [] })];\n",
      "functions/loud/_middleware.ts": 'export const onRequest = () => "hello";\n',
      "functions/loud/index.ts": 'export const onRequestGet = () => new Response("fine");\n',
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    const app = await startApp(root, { bindings: { DEBUG: "true" } });
    const detail = async (path: string) => {
      const res = await app.fetch(path, { headers: { accept: "application/json" } });
      expect(res.status).toBe(500);
      return String(((await res.json()) as { detail: string }).detail).split("\n")[0];
    };
    try {
      expect(await detail("/bare")).toBe("TypeError: functions/bare.ts: onRequestGet returned undefined, not a Response (route /bare): did it forget to return?");
      expect(await detail("/api/items/7")).toBe("TypeError: functions/api/items/[id].ts: onRequestGet[1] returned an object (Object), not a Response (route /api/items/:id)");
      expect(await detail("/loud")).toBe("TypeError: functions/loud/_middleware.ts: onRequest returned string, not a Response (route /loud)");
      expect(app.output()).toContain("functions/bare.ts: onRequestGet returned undefined");
    } finally {
      await app.dispose();
    }
  });
});

describe("bindings the app needs and its wrangler.toml lacks are build warnings", () => {
  async function notes(files: Record<string, string>): Promise<string[]> {
    const { build } = await import("../src/compiler/index.js");
    const root = mkdtempSync(join(tmpdir(), "kiln-bindings-"));
    for (const [file, text] of Object.entries({ "functions/index.ts": 'export const onRequestGet = () => new Response("home");\n', ...files })) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    return (await build({ root })).notes;
  }
  const TOML = 'name = "app"\nmain = ".kiln/worker.ts"\n';
  const COUNTER = "export const onRequestPost = async ({ session }) => (await session.set('n', 1), new Response('ok'));\n";
  const ASSETS = '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n';

  it("SESSIONS, when a route uses the session", async () => {
    expect(await notes({ "wrangler.toml": TOML + ASSETS, "functions/count.ts": COUNTER })).toContain(
      'functions/count.ts uses context.session, but wrangler.toml binds no SESSIONS: every request that opens the session fails until it does ([[kv_namespaces]] binding = "SESSIONS", see docs/sessions.md)',
    );
    const bound = await notes({ "wrangler.toml": `${TOML}${ASSETS}[[kv_namespaces]]\nbinding = "SESSIONS"\nid = "x"\n`, "functions/count.ts": COUNTER });
    expect(bound.filter((n) => n.includes("SESSIONS"))).toEqual([]);
  });

  it("[assets], when public/ exists", async () => {
    const note = 'public/ is there, but wrangler.toml has no [assets]: its files are not served. Add [assets] with directory = "public" and binding = "ASSETS"';
    expect(await notes({ "wrangler.toml": TOML, "public/robots.txt": "User-agent: *\n" })).toContain(note);
    expect(await notes({ "wrangler.toml": TOML + ASSETS, "public/robots.txt": "User-agent: *\n" })).not.toContain(note);
    expect((await notes({ "wrangler.toml": TOML })).filter((n) => n.includes("[assets]"))).toEqual([]);
  });
});
