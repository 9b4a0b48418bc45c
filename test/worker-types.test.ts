// Typed bindings (docs/worker.md): after `wrangler types`, Handler and the
// functions/_worker.ts handlers see the app's Env with no generic written.
// The app lives in test/.tmp, outside the repository's own type check, since
// the generated Env is global.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");

const FILES: Record<string, string> = {
  "wrangler.toml": [
    'name = "typed-app"',
    'main = ".kiln/worker.ts"',
    'compatibility_date = "2026-04-01"',
    "[[kv_namespaces]]",
    'binding = "SESSIONS"',
    'id = "sessions"',
    "[[queues.producers]]",
    'binding = "ORDERS"',
    'queue = "orders"',
    "[[durable_objects.bindings]]",
    'name = "STOCK"',
    'class_name = "Stock"',
    "[vars]",
    'GREETING = "hi"',
    "",
  ].join("\n"),
  // The tsconfig that docs/worker.md shows, as it shows it.
  "tsconfig.json": /```jsonc\n\/\/ tsconfig\.json\n([\s\S]*?)```/.exec(readFileSync(join(REPO, "docs/worker.md"), "utf8"))![1],
  "functions/index.ts": `import type { Handler } from "kiln";

export const onRequestGet: Handler = async ({ env }) => {
  await env.ORDERS.send({ id: 1 });
  const greeting: "hi" = env.GREETING;
  const left: number = await env.STOCK.get(env.STOCK.idFromName("mug")).left();
  // @ts-expect-error: the app binds no NOPE
  env.NOPE;
  return new Response(\`\${greeting} \${left}\`);
};
`,
  "templates/report.html": "<p>{{ cron }}</p>\n",
  "functions/_worker.ts": `import { DurableObject } from "cloudflare:workers";
import type { QueueHandler, ScheduledHandler } from "kiln";

export const scheduled: ScheduledHandler = async (controller, env, _ctx, kiln) => {
  await env.SESSIONS.put("report", kiln.render("report.html", { cron: controller.cron }));
  // @ts-expect-error: the app binds no NOPE
  env.NOPE;
};

export const queue: QueueHandler<{ id: number }> = async (batch, env) => {
  for (const message of batch.messages) await env.SESSIONS.put(String(message.body.id), "seen");
};

export class Stock extends DurableObject {
  left(): number {
    return 3;
  }
}
`,
};

describe("typed bindings from wrangler types", () => {
  it("type env in Handler and the _worker.ts handlers without a generic", () => {
    mkdirSync(join(REPO, "test/.tmp"), { recursive: true });
    // Inside the repository, so `import … from "kiln"` resolves as it does in an app.
    const root = mkdtempSync(join(REPO, "test/.tmp/typed-"));
    for (const [file, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
    // Built first, as docs/worker.md says: wrangler types reads the entry's classes to type the Durable Object stubs.
    const built = spawnSync("node", [join(REPO, "dist/compiler/cli.js"), "build"], { cwd: root, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    const types = spawnSync(join(REPO, "node_modules/.bin/wrangler"), ["types"], { cwd: root, encoding: "utf8", env });
    expect(types.status, types.stdout + types.stderr).toBe(0);
    const tsc = spawnSync(join(REPO, "node_modules/.bin/tsc"), ["-p", root], { encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 60_000);
});
