// kiln build against functions/_worker.ts and wrangler's settings: every
// mistake is a build error that names the setting and the file.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build, formatRouteTable, loadRoutes } from "../src/compiler/index.js";
import { makeApp as makeFiles, problemsOf as buildProblems } from "./helpers/files.js";

/** A throwaway app with a route, so that the build has one: { "functions/a.ts": "source" }. */
const makeApp = (files: Record<string, string>) => makeFiles({ "functions/index.ts": GET, ...files }, "kiln-worker-build-");

const GET = "export const onRequestGet = () => new Response('x');\n";
const TOML = 'name = "app"\nmain = ".kiln/worker.ts"\ncompatibility_date = "2026-04-01"\n';
const STOCK = "export class Stock {}\n";
const SCHEDULED = "export const scheduled = async () => {};\n";
const QUEUE = "export async function queue() {}\n";

const problemsOf = (files: Record<string, string>) => buildProblems({ "functions/index.ts": GET, ...files });

describe("functions/_worker.ts", () => {
  it("is re-exported by the entry beside kiln's fetch, and is not a route", async () => {
    const root = makeApp({ "functions/_worker.ts": SCHEDULED + QUEUE + STOCK + "export class Greeter {}\n" });
    const { outFile, table } = await build({ root });
    const entry = readFileSync(outFile, "utf8");
    expect(entry).toContain("  fetch: app.fetch,\n");
    expect(entry).toContain("  scheduled: (event: any, env: any, ctx: any) => w_scheduled(event, env, ctx, workerTools),\n");
    expect(entry).toContain("  queue: (event: any, env: any, ctx: any) => w_queue(event, env, ctx, workerTools),\n");
    expect(entry).toContain('export { Stock, Greeter } from "../functions/_worker.ts";');
    expect(table.routes.map((r) => r.pattern)).toEqual(["/"]);
    expect(formatRouteTable(await loadRoutes(root))).not.toContain("_worker");
  });

  it("leaves the entry as it was for an app without one", async () => {
    const { outFile } = await build({ root: makeApp({}) });
    expect(readFileSync(outFile, "utf8")).toContain("export default createHandler({ entries: [");
  });

  it.each([
    ["export const fetch = () => new Response('');", "functions/_worker.ts: exports fetch, but routes own fetch: answer requests from route files"],
    ["export default { scheduled() {} };", "functions/_worker.ts: has a default export, but the Worker's default export is kiln's (its fetch runs the routes): export scheduled, queue, email, tail by name"],
    ["export const onRequestGet = () => new Response('');", "functions/_worker.ts: exports onRequestGet, a route handler, but _worker.ts is not a route: put it in a route file"],
    ["export const BATCH = 5;", "functions/_worker.ts: exports BATCH, which is neither a handler (scheduled, queue, email, tail) nor a class"],
    ["export * from './lib/jobs.ts';", "functions/_worker.ts: `export * from` hides which handlers the file has"],
  ])("refuses %s", async (source, message) => {
    const problems = await problemsOf({ "functions/_worker.ts": source, "functions/lib/jobs.ts": SCHEDULED });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it("is one file", async () => {
    expect(await problemsOf({ "functions/_worker.ts": SCHEDULED, "functions/_worker.js": SCHEDULED })).toEqual([
      "functions/_worker.ts and functions/_worker.js: one Worker file only, keep one",
    ]);
  });

  it("renders only templates that exist", async () => {
    const source = "export const scheduled = async (c, env, ctx, kiln) => { kiln.render(\"report.html\"); };\n";
    expect(await problemsOf({ "functions/_worker.ts": source })).toEqual([
      'functions/_worker.ts:1: render("report.html"): no such template in templates/',
    ]);
  });
});

describe("wrangler's settings need their code", () => {
  it("a Durable Object binding whose class nothing exports", async () => {
    const toml = TOML + '[[durable_objects.bindings]]\nname = "STOCK"\nclass_name = "Stock"\n';
    expect(await problemsOf({ "wrangler.toml": toml, "functions/_worker.ts": SCHEDULED })).toEqual([
      'wrangler.toml: durable_objects.bindings "STOCK" has class_name = "Stock", but functions/_worker.ts does not export the class Stock',
    ]);
    expect(await problemsOf({ "wrangler.toml": toml })).toEqual([
      'wrangler.toml: durable_objects.bindings "STOCK" has class_name = "Stock", but there is no functions/_worker.ts to export the class Stock: create it',
    ]);
    await build({ root: makeApp({ "wrangler.toml": toml, "functions/_worker.ts": STOCK }) });
  });

  it("a Durable Object of another Worker is that Worker's business", async () => {
    const toml = TOML + '[[durable_objects.bindings]]\nname = "STOCK"\nclass_name = "Stock"\nscript_name = "inventory"\n';
    await build({ root: makeApp({ "wrangler.toml": toml }) });
  });

  it("a queue consumer without a queue handler", async () => {
    const toml = TOML + '[[queues.consumers]]\nqueue = "orders"\n';
    expect(await problemsOf({ "wrangler.toml": toml, "functions/_worker.ts": SCHEDULED })).toEqual([
      'wrangler.toml: queues.consumers "orders" delivers to a queue handler, but functions/_worker.ts does not export queue',
    ]);
    await build({ root: makeApp({ "wrangler.toml": toml, "functions/_worker.ts": QUEUE }) });
  });

  it("a cron trigger without a scheduled handler", async () => {
    const toml = TOML + '[triggers]\ncrons = ["0 3 * * *", "*/5 * * * *"]\n';
    expect(await problemsOf({ "wrangler.toml": toml })).toEqual([
      'wrangler.toml: triggers.crons ("0 3 * * *", "*/5 * * * *") run a scheduled handler, but there is no functions/_worker.ts to export scheduled: create it',
    ]);
    await build({ root: makeApp({ "wrangler.toml": toml, "functions/_worker.ts": SCHEDULED }) });
  });

  it("a Workflow binding whose class nothing exports", async () => {
    const toml = TOML + '[[workflows]]\nname = "nightly"\nbinding = "NIGHTLY"\nclass_name = "Nightly"\n';
    expect(await problemsOf({ "wrangler.toml": toml, "functions/_worker.ts": STOCK })).toEqual([
      'wrangler.toml: workflows "NIGHTLY" has class_name = "Nightly", but functions/_worker.ts does not export the class Nightly',
    ]);
  });

  it("the settings of an [env.NAME] too, named with it", async () => {
    const toml = TOML + '[env.staging.triggers]\ncrons = ["0 * * * *"]\n';
    expect(await problemsOf({ "wrangler.toml": toml })).toEqual([
      'wrangler.toml: env.staging.triggers.crons ("0 * * * *") run a scheduled handler, but there is no functions/_worker.ts to export scheduled: create it',
    ]);
  });

  it("wrangler.json and wrangler.jsonc (comments, trailing commas), which wrangler prefers to wrangler.toml", async () => {
    const jsonc = '{\n  // the nightly job\n  "name": "app", /* … */\n  "triggers": { "crons": ["0 3 * * *",], },\n  "queues": { "consumers": [{ "queue": "a // b" }] }\n}\n';
    expect(await problemsOf({ "wrangler.jsonc": jsonc, "wrangler.toml": TOML })).toEqual([
      'wrangler.jsonc: queues.consumers "a // b" delivers to a queue handler, but there is no functions/_worker.ts to export queue: create it',
      'wrangler.jsonc: triggers.crons ("0 3 * * *") run a scheduled handler, but there is no functions/_worker.ts to export scheduled: create it',
    ]);
    const json = JSON.stringify({ name: "app", durable_objects: { bindings: [{ name: "STOCK", class_name: "Stock" }] } });
    expect(await problemsOf({ "wrangler.json": json, "wrangler.jsonc": jsonc })).toEqual([
      'wrangler.json: durable_objects.bindings "STOCK" has class_name = "Stock", but there is no functions/_worker.ts to export the class Stock: create it',
    ]);
  });

  it("a config that does not parse, with its line", async () => {
    const problems = await problemsOf({ "wrangler.toml": TOML + "[triggers\ncrons = []\n" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^wrangler\.toml:4:\d+: kiln cannot read it: /);
  });

  it("a class of kiln's own that _worker.ts exports too", async () => {
    const toml = TOML + '[[durable_objects.bindings]]\nname = "RATE_LIMITS"\nclass_name = "KilnRateLimiter"\n';
    expect(await problemsOf({ "wrangler.toml": toml, "functions/_worker.ts": "export class KilnRateLimiter {}\n" })).toEqual([
      "functions/_worker.ts: exports KilnRateLimiter, which kiln's entry exports already (wrangler.toml binds it): remove it",
    ]);
  });

  it("fails `kiln build` on the command line with the message", () => {
    const root = makeApp({ "wrangler.toml": TOML + '[[queues.consumers]]\nqueue = "orders"\n' });
    const cli = resolve(import.meta.dirname, "../dist/compiler/cli.js");
    let said = "";
    try {
      execFileSync("node", [cli, "build", "--root", root], { encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      said = (err as { stderr: string }).stderr;
    }
    expect(said).toContain('kiln: build failed\n  wrangler.toml: queues.consumers "orders" delivers to a queue handler');
  });
});

describe("generated types", () => {
  const TYPES = "// Generated by Wrangler\ndeclare namespace Cloudflare {\n\tinterface Env {\n\t\tSESSIONS: KVNamespace;\n\t}\n}\n";
  const toml = TOML + '[[kv_namespaces]]\nbinding = "SESSIONS"\nid = "x"\n[[queues.producers]]\nbinding = "ORDERS"\nqueue = "orders"\n';

  it("a note says how to refresh worker-configuration.d.ts when it lacks a binding", async () => {
    const { notes } = await build({ root: makeApp({ "wrangler.toml": toml, "worker-configuration.d.ts": TYPES }) });
    expect(notes).toContain(
      "worker-configuration.d.ts does not type ORDERS, which wrangler.toml binds: run npx wrangler types (or set [dev] generate_types = true in wrangler.toml, and wrangler dev keeps it fresh)",
    );
  });

  it("no note when the types are fresh, when wrangler dev regenerates them, or when the app has none", async () => {
    const fresh = TYPES.replace("SESSIONS: KVNamespace;", "SESSIONS: KVNamespace;\n\t\tORDERS: Queue;");
    const notes = async (files: Record<string, string>) => (await build({ root: makeApp(files) })).notes.filter((n) => n.includes("worker-configuration"));
    expect(await notes({ "wrangler.toml": toml, "worker-configuration.d.ts": fresh })).toEqual([]);
    expect(await notes({ "wrangler.toml": toml + "[dev]\ngenerate_types = true\n", "worker-configuration.d.ts": TYPES })).toEqual([]);
    expect(await notes({ "wrangler.toml": toml })).toEqual([]);
  });
});
