// functions/_worker.ts: what a Worker has besides routes (scheduled, queue,
// email and tail handlers; Durable Object, WorkerEntrypoint and Workflow
// classes). The entry re-exports it beside kiln's fetch, and the build checks
// wrangler's settings against it, so that a cron, a queue or a bound class
// without its code fails here, naming both, rather than in wrangler or at 3 a.m.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HANDLER_EXPORTS } from "../runtime/routing.js";
import { ExportError, readHandlerExports } from "./exports.js";
import { WORKER_FILES } from "./route-path.js";
import { ownClassBindings, tablesAt, type WranglerConfig } from "./wrangler-config.js";

/** The handlers a Worker's default export may have besides fetch, as Cloudflare names them. */
export const WORKER_HANDLERS = ["scheduled", "queue", "email", "tail"];

export interface WorkerFile {
  /** functions/_worker.ts, as messages name it. */
  file: string;
  /** Its path, for the entry's import. */
  path: string;
  /** The handlers it exports (WORKER_HANDLERS). */
  handlers: string[];
  /** Its other exports: classes, which the entry re-exports by name. */
  classes: string[];
  /** Every `render("name"` in it, to check the template exists. */
  renders: { file: string; name: string; line: number }[];
}

/** Reads functions/_worker.* (no `worker` when the app has none). Call after `await lexerReady`. */
export function readWorkerFile(functionsDir: string, prefix = "functions/"): { worker?: WorkerFile; problems: string[] } {
  const found = WORKER_FILES.filter((f) => existsSync(join(functionsDir, f)));
  if (found.length > 1) return { problems: [`${found.map((f) => prefix + f).join(" and ")}: one Worker file only, keep one`] };
  if (!found.length) return { problems: [] };
  const file = `${prefix}${found[0]}`;
  const path = join(functionsDir, found[0]);
  const source = readFileSync(path, "utf8");
  let names: string[];
  try {
    names = readHandlerExports(source).names;
  } catch (err) {
    if (!(err instanceof ExportError)) throw err;
    return { problems: [`${file}: ${err.message}`] };
  }
  const problems = names.map((name) => wrongExport(name, source)).filter((p): p is string => !!p).map((p) => `${file}: ${p}`);
  const renders = [...source.matchAll(/\brender\(\s*["'`]([^"'`$]+)["'`]/g)].map((m) => ({ file, name: m[1], line: source.slice(0, m.index).split("\n").length }));
  const handlers = names.filter((n) => WORKER_HANDLERS.includes(n));
  const classes = names.filter((n) => !WORKER_HANDLERS.includes(n));
  return { worker: { file, path, handlers, classes, renders }, problems };
}

/** Why an export cannot go beside kiln's fetch, or undefined when it can. */
function wrongExport(name: string, source: string): string | undefined {
  if (name === "fetch") return "exports fetch, but routes own fetch: answer requests from route files, and keep _worker.ts for scheduled, queue, email, tail and classes";
  if (name === "default") return `has a default export, but the Worker's default export is kiln's (its fetch runs the routes): export ${WORKER_HANDLERS.join(", ")} by name`;
  if (name in HANDLER_EXPORTS) return `exports ${name}, a route handler, but _worker.ts is not a route: put it in a route file`;
  // workerd refuses to start a Worker that exports a value other than a class, a function or a handler object.
  const value = new RegExp(`\\bexport\\s+(?:const|let|var)\\s+${name.replace(/\$/g, "\\$")}(?![\\w$])[^=]*=\\s*(\\S+)`).exec(source);
  if (value && !WORKER_HANDLERS.includes(name) && value[1] !== "class") {
    return `exports ${name}, which is neither a handler (${WORKER_HANDLERS.join(", ")}) nor a class: every export of _worker.ts is an export of the Worker, and workerd refuses a value there; move ${name} to a helper file`;
  }
  return undefined;
}

/**
 * wrangler's settings that need code, against the code: a bound class that
 * nothing exports, a queue consumer without `queue`, a cron without
 * `scheduled`. `kilnClasses`: the classes the entry exports itself.
 */
export function checkWorkerConfig(config: WranglerConfig | undefined, worker: WorkerFile | undefined, kilnClasses: string[]): string[] {
  if (!config) return [];
  const where = worker?.file ?? "functions/_worker.ts";
  const lacks = (what: string) => (worker ? `but ${where} does not export ${what}` : `but there is no ${where} to export ${what}: create it`);
  const exported = new Set([...(worker?.classes ?? []), ...kilnClasses]);
  const problems: string[] = [];
  for (const { setting, className } of ownClassBindings(config)) {
    if (!exported.has(className)) problems.push(`${config.file}: ${setting} has class_name = "${className}", ${lacks(`the class ${className}`)}`);
  }
  const has = (handler: string) => worker?.handlers.includes(handler);
  for (const { prefix, settings } of config.environments) {
    for (const consumer of tablesAt(settings, "queues.consumers")) {
      if (!has("queue")) problems.push(`${config.file}: ${prefix}queues.consumers "${String(consumer.queue)}" delivers to a queue handler, ${lacks("queue")}`);
    }
    const crons = (settings.triggers as { crons?: unknown } | undefined)?.crons;
    if (Array.isArray(crons) && crons.length && !has("scheduled")) {
      problems.push(`${config.file}: ${prefix}triggers.crons (${crons.map((c) => JSON.stringify(c)).join(", ")}) run a scheduled handler, ${lacks("scheduled")}`);
    }
  }
  for (const name of worker?.classes ?? []) {
    if (kilnClasses.includes(name)) problems.push(`${where}: exports ${name}, which kiln's entry exports already (${config.file} binds it): remove it`);
  }
  return problems;
}
