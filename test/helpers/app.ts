// Builds an app with the real `kiln build`, bundles the entry as wrangler
// would (esbuild), and serves it from workerd through Miniflare, with real
// static assets and KV.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { kCurrentWorker, Miniflare } from "miniflare";
import { build } from "../../src/compiler/index.js";
import { readWranglerConfig, tablesAt } from "../../src/compiler/wrangler-config.js";
import { bundleEntry } from "./bundle.js";

export { bundleEntry };

export const COMPATIBILITY_DATE = "2026-04-01";
const TMP = resolve(import.meta.dirname, "../.tmp");

export interface TestApp {
  mf: Miniflare;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** What workerd printed so far (console output), when the caller gave no onOutput: tests assert on it instead of printing it. */
  output(): string;
  dispose(): Promise<void>;
}

let counter = 0;

export interface AppOptions {
  bindings?: Record<string, string>;
  /** Serve through test/helpers/kv-probe.js: counts KV calls per request, injects KV failures. */
  kvProbe?: boolean;
  /** kiln build --listings */
  listings?: boolean;
  /** kiln build --spa / --no-spa */
  spa?: boolean;
  /** [assets] run_worker_first patterns, as kiln build computes them. */
  runWorkerFirst?: string[];
  /** Receives what workerd prints (console output, start-up errors). */
  onOutput?: (text: string) => void;
  /** SQLite-backed Durable Object namespaces, binding → class the entry exports. Default: as the app's wrangler.toml binds them. */
  durableObjects?: Record<string, string>;
  /** R2 buckets to bind, by binding name (Miniflare's local R2). */
  r2Buckets?: string[];
  /** KV namespaces to bind besides SESSIONS, USERS, CATALOG and those of the app's wrangler.toml. */
  kvNamespaces?: string[];
  /** Queues: producer binding → queue name, and the queues this Worker consumes (each message delivered at once). Default: as wrangler.toml says. */
  queues?: { producers?: Record<string, string>; consumers?: string[] };
  /** Service bindings to this Worker's own WorkerEntrypoint classes: binding → class. Default: wrangler.toml's [[services]] that name this Worker. */
  services?: Record<string, string>;
}

export async function startApp(root: string, options: AppOptions = {}): Promise<TestApp> {
  const outDir = join(TMP, `app-${process.pid}-${counter++}`);
  mkdirSync(outDir, { recursive: true });
  const { outFile, runWorkerFirst } = await build({ root, out: join(outDir, "worker.ts"), listings: options.listings, spa: options.spa });
  // The kv probe wraps the entry without its classes, so it gets no Durable Objects.
  const configured = options.kvProbe ? {} : configuredBindings(root);
  const served = { ...configured, ...options, kvNamespaces: [...(configured.kvNamespaces ?? []), ...(options.kvNamespaces ?? [])], runWorkerFirst };
  if (!options.kvProbe) return serveScript(await bundleEntry(outFile), root, served);
  const probe = join(outDir, "probe.js");
  copyFileSync(join(import.meta.dirname, "kv-probe.js"), probe);
  return serveScript(await bundleEntry(probe), root, served);
}

/**
 * GET /__scheduled?cron=…, as `wrangler dev --test-scheduled` answers it (test/demo-dev.test.ts
 * checks the real one): the scheduled handler runs, then "Ran scheduled event".
 */
async function testScheduled(mf: Miniflare, path: string): Promise<Response> {
  const cron = new URL(path, "http://localhost").searchParams.get("cron") ?? "";
  const { outcome } = await (await mf.getWorker()).scheduled({ cron });
  return outcome === "ok" ? new Response("Ran scheduled event") : new Response(`scheduled: ${outcome}`, { status: 500 });
}

/**
 * What ROOT/wrangler.toml (or .json, .jsonc) binds, as wrangler dev would bind it: KV
 * namespaces, R2 buckets, this Worker's own Durable Objects, queues, and service bindings
 * to itself. The options given to startApp win over it.
 */
function configuredBindings(root: string): AppOptions {
  const settings = readWranglerConfig(root)?.environments[0].settings;
  if (!settings) return {};
  const named = (key: string, field: string) => tablesAt(settings, key).map((t) => t[field]).filter((v): v is string => typeof v === "string");
  const own = (t: Record<string, unknown>) => t.script_name === undefined || t.script_name === settings.name;
  return {
    kvNamespaces: named("kv_namespaces", "binding"),
    r2Buckets: named("r2_buckets", "binding"),
    durableObjects: Object.fromEntries(tablesAt(settings, "durable_objects.bindings").filter(own).map((t) => [t.name, t.class_name])),
    queues: {
      producers: Object.fromEntries(tablesAt(settings, "queues.producers").map((t) => [t.binding, t.queue])),
      consumers: named("queues.consumers", "queue"),
    },
    services: Object.fromEntries(tablesAt(settings, "services").filter((t) => t.service === settings.name).map((t) => [t.binding, t.entrypoint])),
  };
}

export async function serveScript(script: string, root: string, options: AppOptions = {}): Promise<TestApp> {
  const publicDir = join(root, "public");
  let printed = "";
  const onOutput = options.onOutput ?? ((text: string) => (printed += text));
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: options.bindings ?? {},
    // SESSIONS is KV unless the app binds it to a Durable Object (KilnSessionStore).
    kvNamespaces: [...new Set(["SESSIONS", "USERS", "CATALOG", ...(options.kvNamespaces ?? [])])].filter((name) => !(name in (options.durableObjects ?? {}))),
    queueProducers: options.queues?.producers,
    queueConsumers: Object.fromEntries((options.queues?.consumers ?? []).map((queue) => [queue, { maxBatchSize: 1, maxBatchTimeout: 0 }])),
    serviceBindings: Object.fromEntries(Object.entries(options.services ?? {}).map(([binding, entrypoint]) => [binding, { name: kCurrentWorker, entrypoint }])),
    durableObjects: Object.fromEntries(Object.entries(options.durableObjects ?? {}).map(([binding, className]) => [binding, { className, useSQLite: true }])),
    r2Buckets: options.r2Buckets,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.on("data", (chunk: Buffer) => onOutput(String(chunk)));
      stderr.on("data", (chunk: Buffer) => onOutput(String(chunk)));
    },
    assets: existsSync(publicDir)
      ? {
          directory: publicDir,
          binding: "ASSETS",
          // As wrangler turns [assets] run_worker_first = [...] into the router's config.
          routerConfig: {
            has_user_worker: true,
            ...(options.runWorkerFirst?.length ? { static_routing: { user_worker: options.runWorkerFirst } } : {}),
          },
        }
      : undefined,
  });
  await mf.ready;
  return {
    mf,
    fetch: (path, init) =>
      path.startsWith("/__scheduled") ? testScheduled(mf, path) : (mf.dispatchFetch(new URL(path, "http://localhost").toString(), init as never) as unknown as Promise<Response>),
    output: () => printed,
    dispose: () => mf.dispose(),
  };
}
