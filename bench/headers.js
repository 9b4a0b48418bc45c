// Security headers benchmark: one HTML route with kiln's default security
// headers and CSP against the same route without them (the step left out of
// the entry), and that route again, whose ratio is the noise. Inside workerd.
//
//   node bench/headers.js [--rounds 15]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { formatRange, getLoopWorker, measureWorkers } from "./measure.js";

const DIR = resolve(import.meta.dirname, ".out/headers");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 15;
rmSync(DIR, { recursive: true, force: true });
mkdirSync(join(DIR, "functions"), { recursive: true });
writeFileSync(join(DIR, "functions/index.ts"), `import { htmlResponse } from "kiln";\nexport const onRequestGet = () => htmlResponse("<h1>hello</h1>");\n`);
const { outFile } = await build({ root: DIR });
const entry = readFileSync(outFile, "utf8");
if (!entry.includes(", security: securityHeaders()")) throw new Error("the entry ships no security headers: has the build changed?");
writeFileSync(join(DIR, ".kiln/without.ts"), entry.replace(", security: securityHeaders()", ""));


const scripts = {};
for (const [name, file] of [["without", "without.ts"], ["without2", "without.ts"], ["with", "worker.ts"]]) {
  writeFileSync(join(DIR, `bench-${name}.js`), getLoopWorker(`./.kiln/${file}`));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const { ratios } = await measureWorkers(scripts, { baseline: "without", rounds: ROUNDS, label: "headers" });
console.log(`Requests per second relative to the same HTML route without kiln's security headers (${ROUNDS} rounds; median group, lowest–highest):\n`);
console.log("| route | ratio |\n|---|---|");
for (const name of ["without2", "with"]) console.log(`| ${name === "with" ? "with the default headers and CSP" : "without (second copy: the noise)"} | ${formatRange(ratios[name])} |`);
