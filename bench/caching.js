// Caching benchmark, inside workerd with miniflare's Cache API:
//  - a route served from the edge cache, against the same route run each time;
//  - the cost of ETag generation on a 10 KB page, against none.
//
//   npm run bench:caching
//   npm run bench:caching -- --against REV   also the ETag routes of kiln at an earlier commit, in the same run
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { formatRange, getLoopWorker, measureWorkers } from "./measure.js";
import { earlierKiln } from "./earlier.js";

const DIR = resolve(import.meta.dirname, ".out/caching");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 30;
const AGAINST = args.includes("--against") ? args[args.indexOf("--against") + 1] : undefined;

// A 10 KB page with some work in it: a 100-row table.
const page = `() => { let rows = ""; for (let i = 0; i < 100; i++) rows += "<tr><td>" + i + "</td><td>item " + i + " of the catalog, with its description</td></tr>"; return new Response("<!doctype html><table>" + rows + "</table>", { headers: { "content-type": "text/html" } }); }`;
const ownEtag = page.replace(`{ "content-type": "text/html" }`, `{ "content-type": "text/html", etag: '"v1"' }`);
// The same page made by kiln's htmlResponse (as render and html give): kiln knows its text.
const rendered = `() => { let rows = ""; for (let i = 0; i < 100; i++) rows += "<tr><td>" + i + "</td><td>item " + i + " of the catalog, with its description</td></tr>"; return htmlResponse("<!doctype html><table>" + rows + "</table>"); }`;
const routes = {
  "plain.ts": `export const onRequestGet = ${page};`,
  "htmlplain.ts": `import { htmlResponse } from "kiln";\nexport const onRequestGet = ${rendered};`,
  "rendered.ts": `import { htmlResponse } from "kiln";\nexport const cache = { sMaxAge: 600 };\nexport const onRequestGet = ${rendered};`,
  // A page that is new every time (a counter in it): the worst case, every ETag hashed afresh.
  "fresh.ts": `import { htmlResponse } from "kiln";\nlet n = 0;\nexport const cache = { sMaxAge: 600 };\nexport const onRequestGet = ${rendered.replace('"</table>"', '"</table>" + n++')};`,
  "freshplain.ts": `import { htmlResponse } from "kiln";\nlet n = 0;\nexport const onRequestGet = ${rendered.replace('"</table>"', '"</table>" + n++')};`,
  "tagged.ts": `export const cache = { sMaxAge: 600 };\nexport const onRequestGet = ${ownEtag};`,
  "etag.ts": `export const cache = { sMaxAge: 600 };\nexport const onRequestGet = ${page};`,
  "edge.ts": `export const cache = { sMaxAge: 600, edge: true };\nexport const onRequestGet = ${page};`,
};
rmSync(DIR, { recursive: true, force: true });
mkdirSync(join(DIR, "functions"), { recursive: true });
for (const [file, source] of Object.entries(routes)) writeFileSync(join(DIR, "functions", file), source + "\n");
await build({ root: DIR });


const scripts = {};
for (const name of Object.keys(routes).map((f) => f.slice(0, -3))) {
  writeFileSync(join(DIR, `bench-${name}.js`), getLoopWorker("./.kiln/worker.ts", `/${name}`));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
// The routes of the ETag target, built by the earlier kiln (bench/earlier.js).
const TARGET = ["htmlplain", "rendered", "freshplain", "fresh"];
if (AGAINST) {
  const OLD = earlierKiln(AGAINST, "caching");
  const then = join(DIR, "then");
  // `import ... from "kiln"` is this checkout's runtime: the earlier one's here.
  mkdirSync(join(then, "functions"), { recursive: true });
  for (const [file, source] of Object.entries(routes)) {
    writeFileSync(join(then, "functions", file), source.replace(`from "kiln"`, `from ${JSON.stringify(join(OLD, "dist/runtime/index.js"))}`) + "\n");
  }
  await (await import(join(OLD, "dist/compiler/index.js"))).build({ root: then });
  for (const name of TARGET) {
    writeFileSync(join(then, `bench-${name}.js`), getLoopWorker("./.kiln/worker.ts", `/${name}`));
    scripts[`${name}-${AGAINST}`] = await bundleEntry(join(then, `bench-${name}.js`));
  }
}
const { ratios, rates } = await measureWorkers(scripts, { baseline: "plain", rounds: ROUNDS, groups: 5, label: "caching" });
/** The two ratios of the ETag target, each group's own ratio, as the table's: the median group, then the lowest and highest. */
const targets = (suffix) => {
  const per = (a, b) => ratios[a + suffix].map((x, i) => x / ratios[b + suffix][i]);
  return `the same page each time, rendered ÷ htmlplain = ${formatRange(per("rendered", "htmlplain"))}; a new page each time, fresh ÷ freshplain = ${formatRange(per("fresh", "freshplain"))}.`;
};
const row = (name, what) => `| ${what} | ${formatRange(ratios[name])} | ${Math.round(rates[name])} |`;
console.log(`Requests per second relative to the page without caching, inside workerd (${ROUNDS} rounds in 5 groups, each in isolates of its own; median group, lowest–highest):

| route (a 10 KB page with a 100-row table) | ratio | requests/s |
|---|---|---|
${row("plain", "no cache export")}
${row("tagged", "cache = { sMaxAge: 600 }, the handler sets its own ETag: no hashing")}
${row("etag", "cache = { sMaxAge: 600 }: kiln hashes the 10 KB body for the ETag, read back from the stream; run each time")}
${row("htmlplain", "no cache export, the page made with htmlResponse")}
${row("rendered", "cache = { sMaxAge: 600 }, the page made with htmlResponse: kiln hashes its text")}
${row("edge", "cache = { sMaxAge: 600, edge: true }: served from the edge cache")}
${row("freshplain", "no cache export, htmlResponse, a page that differs every time")}
${row("fresh", "cache = { sMaxAge: 600 }, htmlResponse, a page that differs every time: every ETag hashed afresh")}
${AGAINST ? TARGET.map((n) => row(`${n}-${AGAINST}`, `${n}, kiln at ${AGAINST}`)).join("\n") : ""}

The ETag target compares a cached route with the same route without cache, both made with htmlResponse:
${targets("")}${AGAINST ? `\nkiln at ${AGAINST}: ${targets(`-${AGAINST}`)}` : ""}`);
