// Start-up benchmark: the time from a fresh isolate to its first answer, for
// kiln, Hono and the hand-written floor, at 1,000 and 10,000 routes. Each
// sample starts a new workerd (Miniflare) with one Worker, waits for it to be
// ready and times its first request; an empty Worker started the same way
// gives the cost of workerd itself, which is subtracted. The first request of
// a route set asks a param route deep in the table, so a router that builds
// itself lazily on the first match (Hono) pays for it there.
//
//   npm run bench:startup            (after npm run bench has built the route sets, or on its own)
//   npm run bench:startup -- --sizes 1000 --samples 5
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { bundleEntry } from "../test/helpers/bundle.js";
import { COMPATIBILITY_DATE } from "./measure.js";
import { floorSource, honoSource, routeSet, writeFunctions } from "./routes.js";

const REPO = resolve(import.meta.dirname, "..");
const OUT = join(REPO, "bench/.out");
const args = process.argv.slice(2);
const SIZES = args.includes("--sizes") ? args[args.indexOf("--sizes") + 1].split(",").map(Number) : [1000, 10000];
const SAMPLES = Number(args[args.indexOf("--samples") + 1]) || 7;
const IMPLS = ["empty", "floor", "kiln", "hono"];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Bundles each implementation of one route set. */
async function prepare(size) {
  const dir = join(OUT, `startup-${size}`);
  const routes = routeSet(size);
  writeFunctions(dir, routes);
  execFileSync("node", [join(REPO, "dist/compiler/cli.js"), "build", "--root", dir], { stdio: "pipe" });
  writeFileSync(join(dir, "floor.js"), floorSource(routes));
  writeFileSync(join(dir, "hono.js"), honoSource(routes));
  writeFileSync(join(dir, "empty.js"), `export default { fetch: () => new Response("res0 1") };\n`);
  const sources = { empty: "empty.js", floor: "floor.js", kiln: ".kiln/worker.ts", hono: "hono.js" };
  const scripts = {};
  for (const impl of IMPLS) scripts[impl] = await bundleEntry(join(dir, sources[impl]));
  const last = routes.filter((r) => r.path.endsWith("/:id")).pop();
  return { scripts, path: last.path.replace(":id", "1") };
}

/** ms from a new Miniflare to the first response of `path`. */
async function firstAnswer(script, path) {
  const start = performance.now();
  const mf = new Miniflare({ modules: true, script, compatibilityDate: COMPATIBILITY_DATE, bindings: { KILN_LOG: "off" } });
  try {
    const res = await mf.dispatchFetch(`http://bench.local${path}`);
    await res.text();
    if (res.status !== 200) throw new Error(`status ${res.status} for ${path}`);
    return performance.now() - start;
  } finally {
    await mf.dispose();
  }
}

mkdirSync(OUT, { recursive: true });
if (!existsSync(join(REPO, "dist/compiler/cli.js"))) execFileSync("npm", ["run", "build"], { cwd: REPO, stdio: "inherit" });
const rows = [];
for (const size of SIZES) {
  const { scripts, path } = await prepare(size);
  const times = Object.fromEntries(IMPLS.map((i) => [i, []]));
  for (let s = 0; s < SAMPLES; s++) {
    for (const impl of [...IMPLS].sort(() => Math.random() - 0.5)) times[impl].push(await firstAnswer(scripts[impl], path));
  }
  const base = median(times.empty);
  rows.push({ size, base, own: Object.fromEntries(IMPLS.slice(1).map((i) => [i, median(times[i]) - base])) });
  process.stderr.write(`startup ${size}: ${IMPLS.map((i) => `${i} ${median(times[i]).toFixed(0)} ms`).join(", ")}\n`);
}
console.log(`Start-up: from a new isolate to its first answer, above an empty Worker's (median of ${SAMPLES} samples, ms):

| routes | empty Worker (workerd itself) | floor | kiln | hono |
|---|---|---|---|---|
${rows.map((r) => `| ${r.size} | ${r.base.toFixed(0)} | ${r.own.floor.toFixed(1)} | ${r.own.kiln.toFixed(1)} | ${r.own.hono.toFixed(1)} |`).join("\n")}`);
