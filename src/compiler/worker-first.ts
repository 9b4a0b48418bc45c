// Static files are served before the Worker runs, and that is what keeps them
// cheap. A folder whose _middleware guards its static files needs the Worker
// first, for that folder only: wrangler's [assets] run_worker_first takes
// those patterns, and kiln build keeps them in step with functions/.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RouteTable } from "./scan.js";

const MARKER = "# kiln build: from _middleware files that export guardsStaticFiles";

/** `/members` and `/members/*` for functions/members/_middleware.ts; a param folder guards from the literal part before it. */
export function runWorkerFirstPatterns(table: RouteTable): string[] {
  const patterns = new Set<string>();
  for (const mw of table.middleware) {
    if (!mw.guardsStaticFiles) continue;
    const literal: string[] = [];
    for (const s of mw.segments) {
      if (s.kind !== "literal") break;
      literal.push(s.value);
    }
    const prefix = literal.length ? `/${literal.join("/")}` : "";
    if (prefix) patterns.add(prefix);
    patterns.add(`${prefix}/*`);
  }
  return [...patterns].sort();
}

/**
 * Writes the patterns into wrangler.toml's [assets] table as one
 * `run_worker_first = [...]` line that kiln owns (it carries MARKER). A line
 * the user wrote is never touched; a message says what it lacks.
 * Returns what to tell the user, if anything.
 */
export function syncWranglerToml(root: string, patterns: string[]): string | undefined {
  const file = join(root, "wrangler.toml");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return patterns.length ? `add run_worker_first = ${JSON.stringify(patterns)} to [assets] in your wrangler config` : undefined;
  }
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^\s*\[assets\]\s*(#.*)?$/.test(l));
  if (start < 0) return patterns.length ? `wrangler.toml has no [assets] table for run_worker_first = ${JSON.stringify(patterns)}` : undefined;
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > start && i < end && /^\s*run_worker_first\s*=/.test(l));
  const wanted = patterns.length ? `run_worker_first = ${JSON.stringify(patterns)} ${MARKER}` : undefined;
  if (at >= 0 && !lines[at].includes(MARKER)) {
    const missing = patterns.filter((p) => !lines[at].includes(JSON.stringify(p)));
    return missing.length ? `wrangler.toml sets run_worker_first itself; add ${JSON.stringify(missing)} so guarded static files reach the Worker` : undefined;
  }
  if (at >= 0 && lines[at] === wanted) return undefined;
  if (at >= 0) {
    if (wanted) lines[at] = wanted;
    else lines.splice(at, 1);
  } else if (wanted) {
    // After the table's last setting: blank lines and comments before the next table belong to that one.
    let insert = end;
    while (insert > start + 1 && /^\s*(#.*)?$/.test(lines[insert - 1])) insert--;
    lines.splice(insert, 0, wanted);
  } else {
    return undefined;
  }
  writeFileSync(file, lines.join("\n"));
  return `wrangler.toml: run_worker_first = ${JSON.stringify(patterns)}`;
}
