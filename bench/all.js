// `npm run bench`: every benchmark in one go, each printing its table, in the
// order of bench/README.md. A quick pass for a look: `npm run bench -- --quick`
// (fewer rounds; the spreads are wider).
//
//   npm run bench [-- --quick]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const HERE = import.meta.dirname;
const quick = process.argv.includes("--quick");
const BENCHES = [
  ["Routing, bundle size and build time", "run.js", quick ? ["--sizes", "10,1000", "--rounds", "10"] : []],
  ["Size of each optional part", "sizes.js", []],
  ["Start-up", "startup.js", quick ? ["--samples", "3"] : []],
  ["Templates", "templates.js", quick ? ["--rounds", "6"] : []],
  ["Caching and ETags", "caching.js", quick ? ["--rounds", "6"] : []],
  ["Sessions", "sessions.js", quick ? ["--rounds", "6"] : []],
  ["Authentication", "auth.js", quick ? ["--rounds", "6"] : []],
  ["Input", "input.js", quick ? ["--rounds", "6"] : []],
  ["Security headers", "headers.js", quick ? ["--rounds", "6"] : []],
];

for (const [title, file, args] of BENCHES) {
  console.log(`\n## ${title} (bench/${file})\n`);
  execFileSync("node", [resolve(HERE, file), ...args], { stdio: ["ignore", "inherit", "inherit"] });
}
