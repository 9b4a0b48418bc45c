// `wrangler dev` as a user runs it, for the tests that need the real thing
// (the dev loop, the demo's queue and cron, the browser, an installed kiln):
// a free port, wrangler's output collected for the error a test fails with,
// and a wait that polls until the app answers as expected.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { freePort } from "./port.js";

const REPO = resolve(import.meta.dirname, "../..");

export interface WranglerDev {
  port: number;
  /** http://127.0.0.1:PORT followed by `path`. */
  url(path: string): string;
  /** Everything wrangler printed so far. */
  log(): string;
  /** Polls `check` every 250 ms; after `ms`, fails with what wrangler printed. */
  until(check: () => Promise<boolean>, ms: number): Promise<void>;
  stop(): void;
}

/** Starts this repository's `wrangler dev` in `root`, with `args` besides the port. */
export async function startWranglerDev(root: string, args: string[] = []): Promise<WranglerDev> {
  const port = await freePort();
  let log = "";
  const dev: ChildProcess = spawn(join(REPO, "node_modules/.bin/wrangler"), ["dev", "--port", String(port), "--ip", "127.0.0.1", ...args], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  dev.stdout!.on("data", (d) => (log += d));
  dev.stderr!.on("data", (d) => (log += d));
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    log: () => log,
    async until(check, ms) {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out; wrangler said:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: () => void dev.kill("SIGTERM"),
  };
}
