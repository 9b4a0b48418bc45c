// Session benchmark: a route that reads the session and one that writes it,
// against the same route without a session, in workerd with miniflare's real
// KV. Prints ratios to the plain route.
//
//   npm run bench:sessions
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { formatRange, measureWorkers } from "./measure.js";

const REPO = resolve(import.meta.dirname, "..");
const DIR = join(REPO, "bench/.out/sessions");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 15;
const SECRET = "bench-secret-of-at-least-32-characters!";

rmSync(DIR, { recursive: true, force: true });
mkdirSync(join(DIR, "functions"), { recursive: true });
const routes = {
  "plain.ts": `export const onRequestGet = () => new Response("ok");`,
  "read.ts": `export const onRequestGet = async ({ session }) => new Response("ok " + (await session.get("n")));`,
  "write.ts": `let n = 0;\nexport const onRequestGet = async ({ session }) => { await session.set("n", ++n); return new Response("ok " + n); };`,
  // What a session read costs KV alone: the record and its revocation mark, read at the same time (docs/sessions.md).
  "kvget.ts": `export const onRequestGet = async ({ env }) => { const [a, b] = await Promise.all([env.SESSIONS.get("session:x", "text"), env.SESSIONS.get("revoked:session:x", "text")]); return new Response("ok " + a + b); };`,
};
for (const [file, source] of Object.entries(routes)) writeFileSync(join(DIR, "functions", file), source + "\n");
await build({ root: DIR });

/** One Worker per route: it opens a session once, then requests the route N times with its cookie. */
function benchWorker(path) {
  return `import app from "./.kiln/worker.ts";
const ctx = { waitUntil() {}, passThroughOnException() {} };
let cookie;
export default {
  async fetch(request, env) {
    if (!cookie) {
      const first = await app.fetch(new Request("http://bench.local/write"), env, ctx);
      cookie = first.headers.get("set-cookie").split(";")[0];
    }
    const target = new Request("http://bench.local${path}", { headers: { cookie } });
    const n = Number(new URL(request.url).searchParams.get("n"));
    for (let i = 0; i < n; i++) {
      const res = await app.fetch(target, env, ctx);
      if (res.status !== 200) return new Response(await res.text(), { status: 500 });
      await res.arrayBuffer();
    }
    return new Response("done");
  },
};
`;
}

const scripts = {};
const NAMES = ["plain", "kvget", "read", "write"];
for (const name of NAMES) {
  writeFileSync(join(DIR, `bench-${name}.js`), benchWorker(`/${name}`));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const { ratios, rates } = await measureWorkers(scripts, {
  baseline: "plain",
  rounds: ROUNDS,
  label: "sessions",
  worker: { kvNamespaces: ["SESSIONS"], bindings: { SESSION_SECRET: SECRET } },
});
console.log(`Requests per second relative to the same route without a session, inside workerd with miniflare's KV (${ROUNDS} rounds):

| route | ratio | requests/s |
|---|---|---|
${NAMES.map((n) => `| ${n} | ${formatRange(ratios[n])} | ${Math.round(rates[n])} |`).join("\n")}

The session layer's own cost on a read (signature check, cookie, record parse) is read against kvget,
two KV reads at once and nothing else: read ÷ kvget = ${(rates.read / rates.kvget).toFixed(2)}; per request, ${(1e6 / rates.read - 1e6 / rates.kvget).toFixed(1)} µs of kiln's own work.`);
