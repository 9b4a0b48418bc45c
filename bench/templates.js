// Template benchmark: a page with a layout and a 100-row table, rendered by a
// kiln template, by Hono's html helper and by Hono JSX, inside workerd; the
// gzipped bytes the template runtime adds to a bundle; and, for large pages,
// the time to the first and the last byte with render and renderStream.
//
//   npm run bench:templates
//   npm run bench:templates -- --against REV   also kiln at an earlier commit, in the same run
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { COMPATIBILITY_DATE, formatRange, getLoopWorker, measureWorkers } from "./measure.js";
import { earlierKiln } from "./earlier.js";

const DIR = resolve(import.meta.dirname, ".out/templates");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 30;
const AGAINST = args.includes("--against") ? args[args.indexOf("--against") + 1] : undefined;
rmSync(DIR, { recursive: true, force: true });
const write = (file, text) => {
  mkdirSync(join(DIR, file, ".."), { recursive: true });
  writeFileSync(join(DIR, file), text);
};

const ROWS = `Array.from({ length: 100 }, (_, i) => ({ id: i, name: "item <" + i + ">", price: (i * 1.25).toFixed(2) }))`;

// kiln: templates/ compiled by kiln build
write("kiln/templates/layout.html", `<!doctype html><html><head><title>{{ title }}</title></head><body><header>Shop</header>{% block content %}{% endblock %}<footer>kiln</footer></body></html>`);
write("kiln/templates/table.html", `{% extends "layout.html" %}{% block content %}<table>{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.price }}</td></tr>{% endfor %}</table>{% endblock %}`);
write("kiln/functions/index.ts", `const rows = ${ROWS};\nexport const onRequestGet = ({ render }) => render("table.html", { title: "Table", rows });\n`);
// the same app without templates: the size of the template runtime is the difference
write("plain/functions/index.ts", `export const onRequestGet = () => new Response("x");\n`);
write("withtemplate/templates/a.html", `{{ x }}`);
write("withtemplate/functions/index.ts", `export const onRequestGet = ({ render }) => render("a.html", { x: 1 });\n`);
await build({ root: join(DIR, "kiln") });
// The same app with kiln's default security headers and CSP turned off: Hono's html adds none, so this row compares rendering alone.
write("kiln-bare/templates/layout.html", `<!doctype html><html><head><title>{{ title }}</title></head><body><header>Shop</header>{% block content %}{% endblock %}<footer>kiln</footer></body></html>`);
write("kiln-bare/templates/table.html", `{% extends "layout.html" %}{% block content %}<table>{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.price }}</td></tr>{% endfor %}</table>{% endblock %}`);
write("kiln-bare/functions/index.ts", `const rows = ${ROWS};\nexport const headers = { "x-content-type-options": false, "referrer-policy": false, "x-frame-options": false };\nexport const csp = false;\nexport const onRequestGet = ({ render }) => render("table.html", { title: "Table", rows });\n`);
await build({ root: join(DIR, "kiln-bare") });
const sources = { kiln: "./kiln/.kiln/worker.ts", "kiln-bare": "./kiln-bare/.kiln/worker.ts" };
if (AGAINST) {
  // The earlier kiln (bench/earlier.js) compiles the same two apps.
  const OLD = earlierKiln(AGAINST, "templates");
  const { build: oldBuild } = await import(join(OLD, "dist/compiler/index.js"));
  for (const app of ["kiln", "kiln-bare"]) {
    const copy = `${app}-${AGAINST}`;
    for (const file of ["templates/layout.html", "templates/table.html", "functions/index.ts"]) write(`${copy}/${file}`, readFileSync(join(DIR, app, file), "utf8"));
    await oldBuild({ root: join(DIR, copy) });
    sources[copy] = `./${copy}/.kiln/worker.ts`;
  }
}
await build({ root: join(DIR, "plain") });
await build({ root: join(DIR, "withtemplate") });

// Hono's html helper
write("hono-html/app.js", `import { Hono } from "hono";
import { html } from "hono/html";
const rows = ${ROWS};
const layout = (title, content) => html\`<!doctype html><html><head><title>\${title}</title></head><body><header>Shop</header>\${content}<footer>kiln</footer></body></html>\`;
const app = new Hono();
app.get("/", (c) => c.html(layout("Table", html\`<table>\${rows.map((row) => html\`<tr><td>\${row.id}</td><td>\${row.name}</td><td>\${row.price}</td></tr>\`)}</table>\`)));
export default app;
`);
// Hono JSX
write("hono-jsx/tsconfig.json", JSON.stringify({ compilerOptions: { jsx: "react-jsx", jsxImportSource: "hono/jsx" } }));
write("hono-jsx/app.tsx", `import { Hono } from "hono";
const rows = ${ROWS};
const Layout = (props: { title: string; children?: unknown }) => (
  <html><head><title>{props.title}</title></head><body><header>Shop</header>{props.children}<footer>kiln</footer></body></html>
);
const app = new Hono();
app.get("/", (c) => c.html(<Layout title="Table"><table>{rows.map((row) => <tr><td>{row.id}</td><td>{row.name}</td><td>{row.price}</td></tr>)}</table></Layout>));
export default app;
`);

Object.assign(sources, { "hono-html": "./hono-html/app.js", "hono-jsx": "./hono-jsx/app.tsx" });
const scripts = {};
for (const [name, source] of Object.entries(sources)) {
  write(`bench-${name}.js`, getLoopWorker(source));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const gz = async (entry) => gzipSync(await bundleEntry(entry, { minify: true }), { level: 9 }).length;
const runtimeBytes = (await gz(join(DIR, "withtemplate/.kiln/worker.ts"))) - (await gz(join(DIR, "plain/.kiln/worker.ts")));
// Every kiln variant and Hono's html must make the same page before any timing (checked in Node: the apps use Web APIs only).
const pages = await Promise.all(
  Object.keys(sources)
    .filter((n) => n !== "hono-jsx")
    .map(async (n) => {
      const app = (await import(`data:text/javascript,${encodeURIComponent(await bundleEntry(join(DIR, sources[n])))}`)).default;
      return (await app.fetch(new Request("http://bench.local/"), { KILN_LOG: "off" }, { waitUntil() {}, passThroughOnException() {} })).text();
    }),
);
if (new Set(pages).size !== 1 || !pages[0].includes("item &lt;99&gt;")) throw new Error("templates: the renderers' pages differ");
const { ratios, rates } = await measureWorkers(scripts, { baseline: "hono-html", rounds: ROUNDS, groups: 5, label: "templates" });
console.log(`A page with a layout and a 100-row table, requests per second relative to Hono's html helper, inside workerd (${ROUNDS} rounds in 5 groups, each in isolates of its own; median group, lowest–highest):

| renderer | ratio | requests/s |
|---|---|---|
${Object.keys(sources).map((n) => `| ${n} | ${formatRange(ratios[n])} | ${Math.round(rates[n])} |`).join("\n")}

Template runtime added to a bundle (one template, minified and gzipped): ${runtimeBytes} bytes.`);

// Large pages: the same table of N rows, whole (render) and streamed (renderStream), fetched through
// Miniflare; the time to the first byte of the body and to the last, median of 7 after 2 to warm up.
const LAYOUT = readFileSync(join(DIR, "kiln/templates/layout.html"), "utf8");
write("kiln-large/templates/layout.html", LAYOUT);
write("kiln-large/templates/table.html", readFileSync(join(DIR, "kiln/templates/table.html"), "utf8"));
write("kiln-large/functions/lib/rows.ts", `export const rowsOf = (request) => Array.from({ length: Number(new URL(request.url).searchParams.get("n")) }, (_, i) => ({ id: i, name: "item <" + i + ">", price: (i * 1.25).toFixed(2) }));\n`);
write("kiln-large/functions/whole.ts", `import { rowsOf } from "./lib/rows";\nexport const onRequestGet = ({ render, request }) => render("table.html", { title: "Table", rows: rowsOf(request) });\n`);
write("kiln-large/functions/streamed.ts", `import { rowsOf } from "./lib/rows";\nexport const onRequestGet = ({ renderStream, request }) => renderStream("table.html", { title: "Table", rows: rowsOf(request) });\n`);
const { outFile: largeEntry } = await build({ root: join(DIR, "kiln-large") });
const mf = new Miniflare({ modules: true, script: await bundleEntry(largeEntry), compatibilityDate: COMPATIBILITY_DATE, bindings: { KILN_LOG: "off" } });
const byteTimes = async (path) => {
  const start = performance.now();
  const reader = (await mf.dispatchFetch(`http://bench.local${path}`)).body.getReader();
  let bytes = (await reader.read()).value.byteLength;
  const first = performance.now() - start;
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  return { first, last: performance.now() - start, bytes };
};
const medianOf = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const large = [];
try {
  for (const n of [1000, 10000, 50000]) {
    const row = { n };
    for (const how of ["whole", "streamed"]) {
      const runs = [];
      for (let i = 0; i < 9; i++) runs.push(await byteTimes(`/${how}?n=${n}`));
      const timed = runs.slice(2);
      row[how] = { first: medianOf(timed.map((t) => t.first)), last: medianOf(timed.map((t) => t.last)), bytes: runs[0].bytes };
    }
    if (row.whole.bytes !== row.streamed.bytes) throw new Error(`templates: render and renderStream sent ${row.whole.bytes} and ${row.streamed.bytes} bytes for ${n} rows`);
    large.push(row);
  }
} finally {
  await mf.dispose();
}
const ms = (x) => `${x.toFixed(1)} ms`;
console.log(`
Large pages, the same table in the same layout, through Miniflare: time to the first byte of the body / to the last, median of 7:

| rows (bytes) | render: first / last | renderStream: first / last |
|---|---|---|
${large.map((r) => `| ${r.n.toLocaleString("en")} (${Math.round(r.whole.bytes / 1024)} KB) | ${ms(r.whole.first)} / ${ms(r.whole.last)} | ${ms(r.streamed.first)} / ${ms(r.streamed.last)} |`).join("\n")}`);
