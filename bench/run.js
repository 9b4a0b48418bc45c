// Routing benchmark: kiln against a hand-written floor, Hono, itty-router and
// `wrangler pages functions build`, on the same route files, inside workerd,
// in one run. Prints ratios to the floor, bundle sizes and build times.
//
//   npm run bench            (after npm ci; takes a few minutes)
//   npm run bench -- --rounds 5
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { formatRange, measureWorkers } from "./measure.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { floorSource, handlersOnlySource, honoSource, ittySource, requestMix, routeSet, routingWorker, writeFunctions } from "./routes.js";

const REPO = resolve(import.meta.dirname, "..");
const OUT = join(REPO, "bench/.out");
const KILN = join(REPO, "dist/compiler/cli.js");
const WRANGLER = join(REPO, "node_modules/.bin/wrangler");
const args = process.argv.slice(2);
// "floor2" is the floor again: its ratio shows how much of a difference is noise. "floor404" is the floor
// answering not-found paths as kiln's contract asks (routes.js floorSource): what the contract itself costs.
const IMPLS = args.includes("--impls") ? args[args.indexOf("--impls") + 1].split(",") : ["floor", "floor2", "floor404", "kiln", "hono", "itty", "pages"];
// --mix found: only the paths a route serves; --mix missing: only the not-found ones; the whole mix by default.
const MIX = args.includes("--mix") ? args[args.indexOf("--mix") + 1] : "all";
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 60;
const GROUPS = 5;
const SIZES = args.includes("--sizes") ? args[args.indexOf("--sizes") + 1].split(",").map(Number) : [10, 1000, 10000];
// itty-router tries each route's RegExp in turn and Pages Functions' build takes minutes at 10,000 routes: they run up to 1,000.
const implsFor = (size) => IMPLS.filter((impl) => size <= 1000 || (impl !== "itty" && impl !== "pages"));

const quietEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

function timeCommand(file, argv, cwd) {
  const start = performance.now();
  execFileSync(file, argv, { cwd, env: quietEnv, stdio: "pipe" });
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bundle = (entry, minify = false) => bundleEntry(entry, { minify });

const gz = (text) => gzipSync(text, { level: 9 }).length;

/** Builds every implementation of one route set; returns the bench worker's source and the sizes. */
async function prepare(size) {
  const dir = join(OUT, `routes-${size}`);
  const routes = routeSet(size);
  writeFunctions(dir, routes);
  const buildMs = [];
  for (let i = 0; i < 3; i++) buildMs.push(timeCommand("node", [KILN, "build", "--root", dir], dir));
  const impls = implsFor(size);
  const pagesMs = impls.includes("pages") ? timeCommand(WRANGLER, ["pages", "functions", "build", "functions", "--outdir", join(dir, "pages")], dir) : NaN;
  writeFileSync(join(dir, "hono.js"), honoSource(routes));
  writeFileSync(join(dir, "itty.js"), ittySource(routes));
  writeFileSync(join(dir, "floor.js"), floorSource(routes));
  writeFileSync(join(dir, "floor404.js"), floorSource(routes, { contract404: true }));
  writeFileSync(join(dir, "floorfiles.js"), floorSource(routes, { files: true }));
  writeFileSync(join(dir, "floortable.js"), floorSource(routes, { table: true }));
  writeFileSync(join(dir, "handlers-only.js"), handlersOnlySource(routes));
  const entries = { kiln: ".kiln/worker.ts", pages: "pages/index.js", hono: "hono.js", itty: "itty.js", handlers: "handlers-only.js" };
  const sizes = {};
  for (const [name, file] of Object.entries(entries)) {
    if (size === 10 && (name === "handlers" || impls.includes(name))) sizes[name] = gz(await bundle(join(dir, file), true));
  }
  const paths = requestMix(routes, MIX);
  const sources = { kiln: "./.kiln/worker.ts", pages: "./pages/index.js", hono: "./hono.js", itty: "./itty.js", floor: "./floor.js", floor2: "./floor.js", floor404: "./floor404.js", floorfiles: "./floorfiles.js", floortable: "./floortable.js" };
  // One worker, so one isolate, per implementation: none shares a heap or a JIT with another.
  const scripts = {};
  for (const impl of impls) {
    writeFileSync(join(dir, `bench-${impl}.js`), routingWorker(sources[impl], paths));
    scripts[impl] = await bundle(join(dir, `bench-${impl}.js`));
  }
  return { scripts, sizes, buildMs: median(buildMs), pagesMs, requests: paths.length, impls };
}


/** Every implementation must answer the mix exactly as the floor does, before anything is timed. */
async function checkAgainstFloor(workers, label) {
  const expected = await (await workers.floor.fetch("http://bench.local/check")).json();
  for (const impl of Object.keys(workers)) {
    const got = await (await workers[impl].fetch("http://bench.local/check")).json();
    const wrong = got.findIndex((g, i) => g[0] !== expected[i][0] || g[1] !== expected[i][1]);
    if (wrong >= 0) throw new Error(`${label}: ${impl} answers request ${wrong} with ${JSON.stringify(got[wrong])}, floor with ${JSON.stringify(expected[wrong])}`);
  }
}


mkdirSync(OUT, { recursive: true });
if (!args.includes("--no-tsc")) execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: REPO, stdio: "inherit" });
const results = {};
for (const size of SIZES) {
  const prepared = await prepare(size);
  const label = `${size} routes`;
  const { ratios } = await measureWorkers(prepared.scripts, {
    baseline: "floor",
    rounds: ROUNDS,
    // Five groups, each in isolates of its own: the routing figures are the ones most sensitive to an isolate's luck.
    groups: GROUPS,
    label,
    check: (workers) => checkAgainstFloor(workers, label),
  });
  results[size] = { ...prepared, rates: ratios };
}

const lines = [];
const mixNote = MIX === "all" ? "" : ` Only the ${MIX === "found" ? "paths a route serves" : "paths no route serves"} of the mix.`;
lines.push(`Requests per second relative to the floor, inside workerd: the best run of each implementation in each of ${GROUPS} groups of ${ROUNDS / GROUPS} rounds, each group in isolates of its own; median group (lowest–highest group).${mixNote}`);
lines.push("");
lines.push(`| implementation | ${SIZES.map((s) => `${s} routes`).join(" | ")} |`);
lines.push(`|---|${SIZES.map(() => "---").join("|")}|`);
for (const impl of IMPLS) lines.push(`| ${impl} | ${SIZES.map((s) => (results[s].rates[impl] ? formatRange(results[s].rates[impl]) : "—")).join(" | ")} |`);
lines.push("");
// Sizes are measured on the 10-route app, when the run has it.
const s10 = results[10]?.sizes;
if (s10) {
  lines.push("Bundle of the 10-route app, minified and gzipped (bytes; the route handlers alone are " + s10.handlers + "):");
  lines.push("");
  lines.push("| implementation | whole bundle | framework (bundle − handlers) |");
  lines.push("|---|---|---|");
  for (const impl of ["kiln", "pages", "hono", "itty"]) if (s10[impl]) lines.push(`| ${impl} | ${s10[impl]} | ${s10[impl] - s10.handlers} |`);
  lines.push("");
}
lines.push("Build time (ms; Pages Functions' only up to 1,000 routes):");
lines.push("");
lines.push(`| routes | kiln build (median of 3) | wrangler pages functions build |`);
lines.push(`|---|---|---|`);
for (const size of SIZES) {
  const { buildMs, pagesMs } = results[size];
  lines.push(`| ${size} | ${Math.round(buildMs)} | ${Number.isNaN(pagesMs) ? "—" : Math.round(pagesMs)} |`);
}
console.log(lines.join("\n"));
