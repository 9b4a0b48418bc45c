// The timing method every benchmark here shares. Each implementation is a
// Worker of its own (so an isolate of its own: no shared heap or JIT) that
// answers /run?n=N by running its work N times. Runs last about 100 ms, in a
// new random order each round, so the machine's drift and the GC fall on all
// alike. Noise only ever slows a run down, so an implementation's rate in a
// group of rounds is its best run; the rounds are cut into groups (three, or
// `groups`), and each group gives one ratio to the baseline. Each group
// starts every Worker afresh, in a new order, and sizes its runs again: one
// isolate can be slower than another running the same code for its whole
// life (V8's heap and JIT decisions differ from start to start, by up to a
// third at 10,000 routes), so each group's ratio comes from isolates of its own.
import { Miniflare } from "miniflare";

export const COMPATIBILITY_DATE = "2026-04-01";

/**
 * @param {Record<string, string>} scripts  name → bundled Worker
 * @param {{ baseline: string, rounds: number, groups?: number, label: string, worker?: object, check?: (workers: Record<string, any>) => Promise<void> }} options
 * @returns {Promise<{ ratios: Record<string, number[]>, rates: Record<string, number> }>}
 */
export async function measureWorkers(scripts, options) {
  const names = Object.keys(scripts);
  const GROUPS = options.groups ?? 3;
  const best = [];
  for (let g = 0; g < GROUPS; g++) {
    const mf = new Miniflare({
      // Started in a new order each time too: where a Worker stands among the others should favour none.
      workers: [...names].sort(() => Math.random() - 0.5).map((name) => ({ name, modules: true, script: scripts[name], compatibilityDate: COMPATIBILITY_DATE, ...options.worker })),
    });
    try {
      const workers = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await mf.getWorker(name)])));
      if (options.check && g === 0) await options.check(workers);
      const run = async (name, n) => {
        const start = performance.now();
        const res = await workers[name].fetch(`http://bench.local/run?n=${n}`);
        const text = await res.text();
        if (!res.ok) throw new Error(`${options.label}: ${name} failed: ${text}`);
        return performance.now() - start;
      };
      // How many requests make a run of about 100 ms, found again in each group (which warms the Workers up).
      const counts = {};
      for (const name of names) {
        let n = 200, ms = await run(name, n);
        while (ms < 50 && n < 1_000_000) (n *= 4), (ms = await run(name, n));
        counts[name] = Math.max(100, Math.round((n * 100) / ms));
      }
      const group = Object.fromEntries(names.map((i) => [i, 0]));
      for (let round = g; round < options.rounds; round += GROUPS) {
        for (const name of [...names].sort(() => Math.random() - 0.5)) {
          group[name] = Math.max(group[name], (counts[name] / (await run(name, counts[name]))) * 1000);
        }
      }
      best.push(group);
    } finally {
      await mf.dispose();
    }
  }
  const ratios = Object.fromEntries(names.map((i) => [i, best.map((g) => g[i] / g[options.baseline])]));
  const rates = Object.fromEntries(names.map((i) => [i, Math.max(...best.map((g) => g[i]))]));
  process.stderr.write(`${options.label}: ${names.map((i) => `${i} ${Math.round(rates[i])}/s`).join(", ")}\n`);
  return { ratios, rates };
}

/**
 * The source of a Worker that answers /run?n=N by asking `source`'s app for
 * `path` N times (GET, KILN_LOG off: the access log is not what is measured),
 * reading each body and waiting for what the app handed to waitUntil.
 */
export function getLoopWorker(source, path = "/") {
  return `import app from ${JSON.stringify(source)};
const waits = [];
const env = { KILN_LOG: "off" };
const ctx = { waitUntil(p) { waits.push(p); }, passThroughOnException() {} };
const target = new Request("http://bench.local${path}");
export default {
  async fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n"));
    for (let i = 0; i < n; i++) {
      const res = await app.fetch(target, env, ctx);
      if (res.status !== 200) return new Response("status " + res.status, { status: 500 });
      await res.arrayBuffer();
    }
    await Promise.all(waits.splice(0));
    return new Response("done");
  },
};
`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** "0.95 (0.93–0.97)": the median group, then the lowest and highest. */
export function formatRange(xs) {
  const f = (x) => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(1));
  const lo = f(Math.min(...xs)), hi = f(Math.max(...xs)), mid = f(median(xs));
  return lo === hi ? mid : `${mid} (${lo}–${hi})`;
}
