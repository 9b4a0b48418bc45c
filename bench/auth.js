// Access benchmark: a route with `access = "user"` against the same route
// without it, for a logged-in visitor, in workerd with miniflare's real KV.
// The check reads the session, so the fair comparison is a route that reads
// the session itself (currentUser): what `access` costs above that read.
// Prints ratios to the route that reads the session.
//
//   npm run bench:auth
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "../dist/compiler/index.js";
import { bundleEntry } from "../test/helpers/bundle.js";
import { formatRange, measureWorkers } from "./measure.js";

const REPO = resolve(import.meta.dirname, "..");
const DIR = join(REPO, "bench/.out/auth");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 15;
const SECRET = "bench-secret-of-at-least-32-characters!";
const KILN = JSON.stringify(join(REPO, "dist/runtime/index.js"));

rmSync(DIR, { recursive: true, force: true });
mkdirSync(join(DIR, "functions"), { recursive: true });
const routes = {
  "plain.ts": `export const onRequestGet = () => new Response("ok");`,
  "read.ts": `import { currentUser } from ${KILN};\nexport const onRequestGet = async (context) => new Response("ok " + (await currentUser(context)).id);`,
  "guarded.ts": `export const access = "user";\nexport const onRequestGet = () => new Response("ok");`,
  "guarded-read.ts": `import { currentUser } from ${KILN};\nexport const access = "user";\nexport const onRequestGet = async (context) => new Response("ok " + (await currentUser(context)).id);`,
  "login.ts": `import { login } from ${KILN};\nexport const onRequestPost = async (context) => { await login(context, { id: "bench", roles: [] }); return new Response("in"); };`,
};
for (const [file, source] of Object.entries(routes)) writeFileSync(join(DIR, "functions", file), source + "\n");
await build({ root: DIR });

/** One Worker per route: it logs in once, then requests the route N times with its cookie. */
function benchWorker(path) {
  return `import app from "./.kiln/worker.ts";
const ctx = { waitUntil() {}, passThroughOnException() {} };
let cookie;
export default {
  async fetch(request, env) {
    if (!cookie) {
      const first = await app.fetch(new Request("http://bench.local/login", { method: "POST" }), env, ctx);
      cookie = first.headers.get("set-cookie").split(";")[0];
    }
    const target = new Request("http://bench.local${path}", { headers: { cookie } });
    const n = Number(new URL(request.url).searchParams.get("n"));
    for (let i = 0; i < n; i++) {
      const res = await app.fetch(target, env, ctx);
      if (res.status !== 200) return new Response(res.status + " " + (await res.text()), { status: 500 });
      await res.arrayBuffer();
    }
    return new Response("done");
  },
};
`;
}

const NAMES = ["plain", "read", "guarded", "guarded-read"];
const scripts = {};
for (const name of NAMES) {
  writeFileSync(join(DIR, `bench-${name}.js`), benchWorker(`/${name}`));
  scripts[name] = await bundleEntry(join(DIR, `bench-${name}.js`));
}
const { ratios, rates } = await measureWorkers(scripts, {
  baseline: "read",
  rounds: ROUNDS,
  label: "auth",
  worker: { kvNamespaces: ["SESSIONS"], bindings: { SESSION_SECRET: SECRET, KILN_LOG: "off" } },
});
const LABELS = {
  plain: "no session, no access",
  read: "reads the session (`currentUser`), no access",
  guarded: '`access = "user"`',
  "guarded-read": '`access = "user"`, and the handler calls `currentUser`',
};
console.log(`Requests per second relative to the route that reads the session without \`access\`, for a logged-in visitor, inside workerd with miniflare's KV (${ROUNDS} rounds):

| route | ratio | requests/s |
|---|---|---|
${NAMES.map((n) => `| ${LABELS[n]} | ${formatRange(ratios[n])} | ${Math.round(rates[n])} |`).join("\n")}`);
