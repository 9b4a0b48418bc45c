// Input benchmark: a small JSON body and a small form, read and validated
// with the same zod schema through context.json()/context.form(), against
// the same route doing it by hand (request.json() / request.formData() and
// schema.safeParse), inside workerd. Prints the ratio of kiln's way to the
// hand-written one.
//
//   npm run bench:input
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { formatRange, measureWorkers } from "./measure.js";

const REPO = resolve(import.meta.dirname, "..");
const DIR = join(REPO, "bench/.out/input");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 15;

const SCHEMA = `import { z } from "zod";
export const Signup = z.object({ email: z.email(), name: z.string().min(1).max(100), age: z.coerce.number().int().min(18), topics: z.array(z.string()).or(z.string().transform((s) => [s])) });
`;
const routes = {
  "lib/schema.ts": SCHEMA,
  "json-kiln.ts": `import { Signup } from "./lib/schema.ts";
export const onRequestPost = async ({ json }) => Response.json(await json(Signup));`,
  "json-hand.ts": `import { Signup } from "./lib/schema.ts";
export const onRequestPost = async ({ request }) => {
  let body;
  try { body = await request.json(); } catch { return new Response("bad JSON", { status: 400 }); }
  const result = Signup.safeParse(body);
  return result.success ? Response.json(result.data) : Response.json({ errors: result.error.issues }, { status: 422 });
};`,
  "form-kiln.ts": `import { Signup } from "./lib/schema.ts";
export const onRequestPost = async ({ form }) => Response.json(await form(Signup));`,
  "form-hand.ts": `import { Signup } from "./lib/schema.ts";
export const onRequestPost = async ({ request }) => {
  let data;
  try { data = await request.formData(); } catch { return new Response("bad form", { status: 400 }); }
  const fields = {};
  for (const [k, v] of data) fields[k] = k in fields ? [].concat(fields[k], v) : v;
  const result = Signup.safeParse(fields);
  return result.success ? Response.json(result.data) : Response.json({ errors: result.error.issues }, { status: 422 });
};`,
};
rmSync(DIR, { recursive: true, force: true });
for (const [file, source] of Object.entries(routes)) {
  mkdirSync(join(DIR, "functions", file, ".."), { recursive: true });
  writeFileSync(join(DIR, "functions", file), source + "\n");
}
await build({ root: DIR });

const JSON_BODY = JSON.stringify({ email: "ada@example.com", name: "Ada", age: 36, topics: ["glaze", "raku"] });
const FORM_BODY = "email=ada%40example.com&name=Ada&age=36&topics=glaze&topics=raku";

/** One Worker per route: it posts the body N times and checks each answer. */
function benchWorker(path, type, body) {
  return `import app from "./.kiln/worker.ts";
const ctx = { waitUntil() {}, passThroughOnException() {} };
// As a browser sends it: with its length.
const headers = { "content-type": ${JSON.stringify(type)}, "content-length": "${new TextEncoder().encode(body).length}" };
export default {
  async fetch(request, env) {
    const n = Number(new URL(request.url).searchParams.get("n"));
    for (let i = 0; i < n; i++) {
      const res = await app.fetch(new Request("http://bench.local${path}", { method: "POST", headers, body: ${JSON.stringify(body)} }), { ...env, KILN_LOG: "off" }, ctx);
      if (res.status !== 200) return new Response(await res.text(), { status: 500 });
      await res.arrayBuffer();
    }
    return new Response("done");
  },
};
`;
}

const cases = {
  "json-hand": ["/json-hand", "application/json", JSON_BODY],
  "json-kiln": ["/json-kiln", "application/json", JSON_BODY],
  "form-hand": ["/form-hand", "application/x-www-form-urlencoded", FORM_BODY],
  "form-kiln": ["/form-kiln", "application/x-www-form-urlencoded", FORM_BODY],
};
const scripts = {};
for (const [name, [path, type, body]] of Object.entries(cases)) {
  writeFileSync(join(DIR, `bench-${name}.js`), benchWorker(path, type, body));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const { ratios, rates } = await measureWorkers(scripts, {
  baseline: "json-hand",
  rounds: ROUNDS,
  label: "input",
  // Each pair is timed against its own hand-written route below; json-hand is only the tool's reference.
});
const ratio = (kiln, hand) => ratios[kiln].map((r, i) => r / ratios[hand][i]);
console.log(`Requests per second of context.json()/form() with a zod schema, relative to the same route by hand with the same schema, inside workerd (${ROUNDS} rounds):

| body | by hand (requests/s) | kiln (requests/s) | kiln / by hand |
|---|---|---|---|
| JSON, 4 fields | ${Math.round(rates["json-hand"])} | ${Math.round(rates["json-kiln"])} | ${formatRange(ratio("json-kiln", "json-hand"))} |
| urlencoded form, 4 fields | ${Math.round(rates["form-hand"])} | ${Math.round(rates["form-kiln"])} | ${formatRange(ratio("form-kiln", "form-hand"))} |`);
