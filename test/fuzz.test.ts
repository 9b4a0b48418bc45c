// The seeded fuzz (test/fuzz/fuzz.ts) at suite size: a few thousand hostile
// requests with KV faults against test/fixtures/fuzz. `npm run fuzz` runs
// 100,000. A failure lists one reproduction per cause and the seed
// (FUZZ_SEED=... npx vitest run test/fuzz.test.ts repeats the run).
import { expect, it } from "vitest";
import { failed, formatFailures, runFuzz, seedFromEnv } from "./fuzz/fuzz.js";

it("answers 3,000 hostile requests with KV faults: no 5xx of its own, no hang, no session lost or resurrected", async () => {
  const report = await runFuzz({ requests: 3000, seed: seedFromEnv(), lanes: 8, faultRate: 0.1, timeoutMs: 5000 });
  if (failed(report)) expect.fail(formatFailures(report, 8));
  expect(report.requests).toBeGreaterThanOrEqual(3000);
  expect(report.unexpected5xx + report.hangs + report.lost + report.resurrected + report.accepted + report.leaked + report.transportErrors).toBe(0);
}, 90_000);
