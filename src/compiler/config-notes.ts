// Bindings the app needs that its wrangler config lacks. Without them the
// build succeeds and the mistake shows only on a request (sessions), or never
// (static files silently not served): so the build says it at once.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { USES_SESSION, type RouteTable } from "./scan.js";
import { bindingNames, isTable, type WranglerConfig } from "./wrangler-config.js";

export function missingBindingNotes(root: string, config: WranglerConfig | undefined, table: RouteTable, assetsDir: string): string[] {
  // An app without a wrangler config is built by other means (tests, the build API): nothing to compare.
  if (!config) return [];
  const notes: string[] = [];
  if (table.mentionsSession && !bindingNames(config).has("SESSIONS")) {
    const users = sessionUsers(join(root, "functions"), table);
    if (users.length) {
      notes.push(`${users.join(", ")} ${users.length === 1 ? "uses" : "use"} context.session, but ${config.file} binds no SESSIONS: every request that opens the session fails until it does ([[kv_namespaces]] binding = "SESSIONS", see docs/sessions.md)`);
    }
  }
  const hasAssets = config.environments.some(({ settings }) => isTable(settings.assets));
  if (!hasAssets && existsSync(assetsDir)) {
    const dir = relative(root, assetsDir) || ".";
    notes.push(`${dir}/ is there, but ${config.file} has no [assets]: its files are not served. Add [assets] with directory = "${dir}" and binding = "ASSETS"`);
  }
  return notes;
}

/** The files whose text mentions the session: the scan only keeps whether any does. */
function sessionUsers(functionsDir: string, table: RouteTable): string[] {
  return [...table.middleware, ...table.routes]
    .filter((f) => USES_SESSION.test(readFileSync(join(functionsDir, f.file), "utf8")))
    .map((f) => `functions/${f.file}`);
}
