// Size: what kiln adds to a Worker, minified and gzipped, as wrangler would
// bundle it. The core is measured on the 10-route app of the routing
// benchmark (bundle − the route handlers alone); each optional part is the
// growth of that bundle when one route file starts using it, so an app sees
// what a feature costs it, and that a feature it does not use costs nothing.
//
//   npm run bench:sizes
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "../dist/compiler/index.js";
import { bundleEntry, bundleInputs } from "../test/helpers/bundle.js";
import { coreLedger } from "./ledger.js";
import { handlersOnlySource, routeSet, writeFunctions } from "./routes.js";

const OUT = resolve(import.meta.dirname, ".out/sizes");
const gz = (text) => gzipSync(text, { level: 9 }).length;

/** One route file, or a few, that make an app use a part; the rest of the app is the 10-route set. */
const PARTS = {
  "a _middleware file (steps around the routes, folder declarations)": { "functions/_middleware.ts": `export const onRequest = ({ next }) => next();` },
  "form posts (the cross-site check)": { "functions/note.ts": `export const onRequestPost = () => new Response("saved");` },
  "sessions (KV)": { "functions/visits.ts": `export const onRequestGet = ({ session }) => new Response(String(session.get("n") ?? 0));` },
  "sessions (Durable Object)": {
    "functions/visits.ts": `export const onRequestGet = ({ session }) => new Response(String(session.get("n") ?? 0));`,
    "wrangler.toml": `name = "sizes"\nmain = ".kiln/worker.ts"\ncompatibility_date = "2026-04-01"\n[[durable_objects.bindings]]\nname = "SESSIONS"\nclass_name = "KilnSessionStore"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["KilnSessionStore"]\n`,
  },
  "caching (a cache export: Cache-Control, ETags, 304s)": { "functions/page.ts": `export const cache = { maxAge: 60 };\nexport const onRequestGet = () => new Response("page");` },
  "templates (one template, and the security headers every HTML app gets)": {
    "functions/page.ts": `export const onRequestGet = ({ render }) => render("page.html", { name: "x" });`,
    "templates/page.html": `<p>Hello {{ name }}</p>\n`,
  },
  "auth (an access rule, with the sessions it needs)": { "functions/members.ts": `export const access = "user";\nexport const onRequestGet = () => new Response("members");` },
  "input (a form read with a schema)": { "functions/note.ts": `export const onRequestPost = async ({ form }) => new Response(String((await form()).title));` },
  "CORS (a cors declaration)": { "functions/api.ts": `export const cors = { origin: "https://app.example" };\nexport const onRequestGet = () => Response.json({});` },
  "public/404.html (error pages for browsers)": { "public/404.html": `<!doctype html><title>Not found</title>\n` },
};

let lastEntry;
async function bundleSize(dir, files) {
  rmSync(dir, { recursive: true, force: true });
  writeFunctions(dir, routeSet(10));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), source + "\n");
  }
  const { outFile } = await build({ root: dir });
  lastEntry = outFile;
  return gz(await bundleEntry(outFile, { minify: true }));
}

const routes = routeSet(10);
const handlersDir = join(OUT, "handlers");
writeFunctions(handlersDir, routes);
writeFileSync(join(handlersDir, "handlers-only.js"), handlersOnlySource(routes));
const handlers = gz(await bundleEntry(join(handlersDir, "handlers-only.js"), { minify: true }));
const base = await bundleSize(join(OUT, "base"), {});
// The core's modules, minified, before gzip: where its bytes go.
const modules = Object.entries(await bundleInputs(lastEntry))
  .filter(([file, bytes]) => bytes > 0 && !file.includes("/functions/"))
  .map(([file, bytes]) => [file.includes("/.kiln/") ? "the entry (the route table and the plan)" : file.replace(/^.*dist\//, ""), bytes])
  .sort((a, b) => b[1] - a[1]);
const ledger = await coreLedger(lastEntry);
const rows = [];
let i = 0;
for (const [part, files] of Object.entries(PARTS)) rows.push([part, (await bundleSize(join(OUT, `part-${i++}`), files)) - base]);
console.log(`Size, minified and gzipped (bytes). The core: the 10-route app of the routing benchmark, ${base} bytes, of which the route handlers alone are ${handlers}:

| part | bytes |
|---|---|
| **core** (router, the route table, context, errors, static files, the request log) | **${base - handlers}** |
${rows.map(([part, bytes]) => `| + ${part} | ${bytes} |`).join("\n")}

Each part is what the bundle grows by when one route file uses it (its own code, the file's few bytes, and the table row).

The core's modules, minified (bytes, before gzip):

| module | bytes |
|---|---|
${modules.map(([file, bytes]) => `| ${file} | ${bytes} |`).join("\n")}

The core, function by function: what each adds, minified and gzipped (bench/ledger.js; an outer function's row includes its inner ones, a class's its members; rows of 20 bytes or more):

| function | bytes |
|---|---|
${ledger.filter(([, bytes]) => bytes >= 20).map(([name, bytes]) => `| ${name} | ${bytes} |`).join("\n")}`);
