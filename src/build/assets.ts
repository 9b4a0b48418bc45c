// The URL paths the static assets in public/ can answer, so the runtime can
// answer 404 itself instead of asking env.ASSETS about a path that cannot be
// a file: one subrequest saved on every request that matches nothing.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { assetKey } from "../runtime/fallback.js";

/** Above this many files the list would cost more start-up time than it saves; the runtime then always asks. */
export const MAX_LISTED_ASSETS = 2000;

/**
 * The keys of every file under `dir`, in the form the runtime's `assetKey`
 * gives a request path, or undefined when the runtime must always ask the
 * assets: no such folder, too many files, or a `_redirects` file (whose rules
 * can answer any path).
 */
export function listAssetKeys(dir: string): string[] | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => f.split("\\").join("/"))
    .filter((f) => statSync(join(dir, f)).isFile());
  if (files.includes("_redirects") || files.length > MAX_LISTED_ASSETS) return undefined;
  return [...new Set(files.map((f) => assetKey(`/${f}`)))].sort();
}
