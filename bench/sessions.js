// Session benchmark: a route that reads the session and one that writes it,
// against the same route without a session, in workerd with miniflare's real
// KV, and the same on the Durable Object store (KilnSessionStore, SQLite-backed)
// with a locked update besides. Prints ratios to the plain route.
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
  // What a session read costs KV alone: the record (there, with a session's few bytes, as a read finds it) and its
  // revocation mark (not there), read at the same time (docs/sessions.md). A hit reads a stored value; a miss does not.
  "kvget.ts": `let stored;\nexport const onRequestGet = async ({ env }) => { stored ??= env.SESSIONS.put("session:x", JSON.stringify({ data: { n: 1 }, flash: {}, created: 1, deadline: 2 })); await stored; const [a, b] = await Promise.all([env.SESSIONS.get("session:x", "text"), env.SESSIONS.get("revoked:session:x", "text")]); return new Response("ok " + a.length + b); };`,
};
for (const [file, source] of Object.entries(routes)) writeFileSync(join(DIR, "functions", file), source + "\n");
await build({ root: DIR });

// The same session routes on the Durable Object store: another app, whose wrangler.toml binds SESSIONS to it.
const DO_DIR = join(DIR, "durable");
mkdirSync(join(DO_DIR, "functions"), { recursive: true });
const doRoutes = {
  "read.ts": routes["read.ts"],
  "write.ts": routes["write.ts"],
  "locked.ts": `export const onRequestGet = async ({ session }) => { await session.lock(); const n = ((await session.get("n")) ?? 0) + 1; await session.set("n", n); return new Response("ok " + n); };`,
};
for (const [file, source] of Object.entries(doRoutes)) writeFileSync(join(DO_DIR, "functions", file), source + "\n");
writeFileSync(join(DO_DIR, "wrangler.toml"), `name = "bench"\n[[durable_objects.bindings]]\nname = "SESSIONS"\nclass_name = "KilnSessionStore"\n`);
await build({ root: DO_DIR });

/**
 * One Worker per route: it opens a session once, then requests the route N times with its cookie.
 * Every Worker has both stores bound, KV as SESSIONS and the object as SESSIONS_DO, so that they share
 * one Miniflare; a Durable Object app sees SESSIONS_DO as its SESSIONS.
 */
function benchWorker(path, durable = false) {
  return `import app from "./${durable ? "durable/" : ""}.kiln/worker.ts";
export { KilnSessionStore } from "../../../dist/runtime/session-object.js";
const ctx = { waitUntil() {}, passThroughOnException() {} };
let cookie;
export default {
  async fetch(request, workerEnv) {
    const env = ${durable ? "{ ...workerEnv, SESSIONS: workerEnv.SESSIONS_DO }" : "workerEnv"};
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
const NAMES = ["plain", "kvget", "read", "write", "do-read", "do-write", "do-locked"];
for (const name of NAMES) {
  const durable = name.startsWith("do-");
  writeFileSync(join(DIR, `bench-${name}.js`), benchWorker(`/${name.replace("do-", "")}`, durable));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const { ratios, rates } = await measureWorkers(scripts, {
  baseline: "plain",
  rounds: ROUNDS,
  label: "sessions",
  worker: { kvNamespaces: ["SESSIONS"], durableObjects: { SESSIONS_DO: { className: "KilnSessionStore", useSQLite: true } }, bindings: { SESSION_SECRET: SECRET, KILN_LOG: "off" } },
});
console.log(`Requests per second relative to the same route without a session, inside workerd with miniflare's KV and Durable Objects (${ROUNDS} rounds):

| route | ratio | requests/s |
|---|---|---|
${NAMES.map((n) => `| ${n} | ${formatRange(ratios[n])} | ${Math.round(rates[n])} |`).join("\n")}

The session layer's own cost on a read (signature check, cookie, record parse) is read against kvget,
two KV reads at once and nothing else: read ÷ kvget = ${(rates.read / rates.kvget).toFixed(2)}; per request, ${(1e6 / rates.read - 1e6 / rates.kvget).toFixed(1)} µs of kiln's own work.
Durable Object store against KV: read ${(rates["do-read"] / rates.read).toFixed(2)}×, write ${(rates["do-write"] / rates.write).toFixed(2)}×; a locked update is ${(rates["do-locked"] / rates["do-write"]).toFixed(2)}× a plain write on the object.`);
