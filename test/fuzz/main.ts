// `npm run fuzz` (through test/fuzz/cli.js): the long run, with KV faults.
// FUZZ_REQUESTS (default 100,000) and FUZZ_SEED change it.
import { failed, formatFailures, formatSummary, runFuzz, seedFromEnv } from "./fuzz.js";

const requests = Number(process.env.FUZZ_REQUESTS ?? 100_000);
if (!Number.isInteger(requests) || requests < 1) throw new Error(`FUZZ_REQUESTS must be a positive integer`);
const tty = process.stderr.isTTY;
const report = await runFuzz({
  requests,
  seed: seedFromEnv(),
  lanes: 16,
  faultRate: 0.25,
  timeoutMs: 10_000,
  onProgress: tty ? (done) => done % 1000 === 0 && process.stderr.write(`\r${done} / ${requests}`) : undefined,
});
if (tty) process.stderr.write("\r\x1b[K");
console.log(formatSummary(report));
if (failed(report)) {
  console.log("");
  console.log(formatFailures(report, 50));
  process.exitCode = 1;
}
