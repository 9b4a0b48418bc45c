// Bundles a Worker entry the way wrangler does: ESM, esbuild, workerd's
// export conditions. Shared by the tests and the benchmarks.
import * as esbuild from "esbuild";

/** esbuild's options for a Worker entry, as wrangler sets them. */
const workerBuild = (entry, minify) => ({
  entryPoints: [entry],
  bundle: true,
  format: "esm",
  platform: "browser",
  conditions: ["workerd", "worker", "browser"],
  // The runtime's own modules (DurableObject, WorkerEntrypoint), as wrangler leaves them.
  external: ["cloudflare:*"],
  target: "es2022",
  minify,
  write: false,
  logLevel: "silent",
});

/**
 * @param {string} entry
 * @param {{ minify?: boolean }} [options]
 * @returns {Promise<string>}
 */
export async function bundleEntry(entry, options = {}) {
  const result = await esbuild.build(workerBuild(entry, options.minify ?? false));
  return result.outputFiles[0].text;
}

/**
 * The minified bytes each input file adds to the bundle.
 * @param {string} entry
 * @returns {Promise<Record<string, number>>}
 */
export async function bundleInputs(entry) {
  const result = await esbuild.build({ ...workerBuild(entry, true), metafile: true });
  const [output] = Object.values(result.metafile.outputs);
  return Object.fromEntries(Object.entries(output.inputs).map(([file, { bytesInOutput }]) => [file, bytesInOutput]));
}
