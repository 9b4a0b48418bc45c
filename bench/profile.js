// A CPU profile of the routing benchmark's Worker inside workerd, through
// the V8 inspector: the functions where kiln (or the floor) spends its time,
// for a route set built by `npm run bench:routing` (bench/.out/routes-SIZE).
// For finding where time goes; the numbers to compare are the benchmarks'.
//
//   node bench/profile.js [SIZE] [kiln|floor|floor404|hono]   e.g. node bench/profile.js 10000 kiln
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { bundleEntry } from "../test/helpers/bundle.js";
import { COMPATIBILITY_DATE } from "./measure.js";
import { requestMix, routeSet, routingWorker } from "./routes.js";

const size = Number(process.argv[2] ?? 1000);
const impl = process.argv[3] ?? "kiln";
const REQUESTS = 400_000;
const dir = resolve(import.meta.dirname, `.out/routes-${size}`);
const source = { kiln: "./.kiln/worker.ts", floor: "./floor.js", floor404: "./floor404.js", hono: "./hono.js" }[impl];
writeFileSync(join(dir, `profile-${impl}.js`), routingWorker(source, requestMix(routeSet(size))));
const script = await bundleEntry(join(dir, `profile-${impl}.js`));
const mf = new Miniflare({ modules: true, script, compatibilityDate: COMPATIBILITY_DATE, inspectorPort: 9229 });
try {
  await (await mf.dispatchFetch(`http://bench.local/run?n=${REQUESTS / 2}`)).text(); // warm up the JIT
  const [target] = await (await fetch("http://127.0.0.1:9229/json")).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ready) => socket.once("open", ready));
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  let id = 0;
  const send = (method, params = {}) => new Promise((done) => (pending.set(++id, done), socket.send(JSON.stringify({ id, method, params }))));
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  await send("Profiler.start");
  const start = performance.now();
  await (await mf.dispatchFetch(`http://bench.local/run?n=${REQUESTS}`)).text();
  const ms = performance.now() - start;
  const { profile } = await send("Profiler.stop");
  socket.close();
  const self = new Map();
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  profile.samples.forEach((sample, i) => {
    const frame = nodes.get(sample).callFrame;
    const name = `${frame.functionName || "(anonymous)"}${frame.lineNumber >= 0 ? ` (line ${frame.lineNumber + 1})` : ""}`;
    self.set(name, (self.get(name) ?? 0) + profile.timeDeltas[i]);
  });
  console.log(`${impl}, ${size} routes: ${((ms * 1000) / REQUESTS).toFixed(2)} µs a request under the profiler. Self time:`);
  for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${((time / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
} finally {
  await mf.dispose();
}
