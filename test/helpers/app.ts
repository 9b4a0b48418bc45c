// Builds an app with the real `kiln build`, bundles the entry as wrangler
// would (esbuild), and serves it from workerd through Miniflare, with real
// static assets and KV.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { build } from "../../src/compiler/index.js";
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
}

export async function startApp(root: string, options: AppOptions = {}): Promise<TestApp> {
  const outDir = join(TMP, `app-${process.pid}-${counter++}`);
  mkdirSync(outDir, { recursive: true });
  const { outFile, runWorkerFirst } = await build({ root, out: join(outDir, "worker.ts"), listings: options.listings, spa: options.spa });
  const served = { ...options, runWorkerFirst };
  if (!options.kvProbe) return serveScript(await bundleEntry(outFile), root, served);
  const probe = join(outDir, "probe.js");
  copyFileSync(join(import.meta.dirname, "kv-probe.js"), probe);
  return serveScript(await bundleEntry(probe), root, served);
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
    kvNamespaces: ["SESSIONS", "USERS", "CATALOG"],
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
    fetch: (path, init) => mf.dispatchFetch(new URL(path, "http://localhost").toString(), init as never) as unknown as Promise<Response>,
    output: () => printed,
    dispose: () => mf.dispose(),
  };
}
