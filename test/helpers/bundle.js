// Bundles a Worker entry the way wrangler does: ESM, esbuild, workerd's
// export conditions. Shared by the tests and the benchmarks.
import * as esbuild from "esbuild";

/**
 * @param {string} entry
 * @param {{ minify?: boolean }} [options]
 * @returns {Promise<string>}
 */
export async function bundleEntry(entry, options = {}) {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    // The runtime's own modules (DurableObject, WorkerEntrypoint), as wrangler leaves them.
    external: ["cloudflare:*"],
    target: "es2022",
    minify: options.minify ?? false,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}
