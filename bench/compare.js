// kiln at an earlier commit against kiln now, on the same route files, side by
// side in one run: the honest way to say a change made routing no slower.
//
//   node bench/compare.js REV [SIZE] [ROUNDS]     e.g. node bench/compare.js 076f107 1000 15
import { cpSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { measureWorkers, formatRange } from "./measure.js";
import { earlierKiln } from "./earlier.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { floorSource, requestMix, routeSet, routingWorker, writeFunctions } from "./routes.js";

const [rev, sizeArg, roundsArg] = process.argv.slice(2);
if (!rev) throw new Error("usage: node bench/compare.js REV [SIZE] [ROUNDS]");
const size = Number(sizeArg ?? 1000);
const REPO = resolve(import.meta.dirname, "..");
const OUT = join(REPO, "bench/.out");
// The earlier kiln, built in a worktree of its own (bench/earlier.js).
const OLD = earlierKiln(rev, "compare");
const oldCli = ["dist/compiler/cli.js", "dist/build/cli.js"].map((f) => join(OLD, f)).find(existsSync);
const results = [];
const routes = routeSet(size);
const paths = requestMix(routes);
const dirNew = join(OUT, `compare-now-${size}`);
const dirOld = join(OUT, `compare-then-${size}`);
writeFunctions(dirNew, routes);
rmSync(dirOld, { recursive: true, force: true });
cpSync(dirNew, dirOld, { recursive: true });
execFileSync("node", [oldCli, "build", "--root", dirOld], { stdio: "pipe" });
execFileSync("node", [join(REPO, "dist/compiler/cli.js"), "build", "--root", dirNew], { stdio: "pipe" });
writeFileSync(join(dirNew, "floor.js"), floorSource(routes));
const scripts = {};
for (const [name, dir, src] of [["floor", dirNew, "./floor.js"], ["floor2", dirNew, "./floor.js"], [`kiln-${rev}`, dirOld, "./.kiln/worker.ts"], ["kiln-now", dirNew, "./.kiln/worker.ts"]]) {
  writeFileSync(join(dir, `cmp-${name}.js`), routingWorker(src, paths));
  scripts[name] = await bundleEntry(join(dir, `cmp-${name}.js`));
}
const { ratios } = await measureWorkers(scripts, { baseline: "floor", rounds: Number(roundsArg ?? 15), groups: 5, label: `compare ${size}` });
console.log(`${size} routes, relative to the floor: ` + Object.entries(ratios).map(([k, v]) => `${k} ${formatRange(v)}`).join(", "));
