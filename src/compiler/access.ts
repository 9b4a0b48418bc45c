// What the build can tell about an app's `access` declarations before it
// runs: mistakes that would leave files open or send visitors in a loop are
// notes that name the file, printed by `kiln build`.
import { folderCovers } from "../runtime/routing.js";
import type { RouteFile, RouteTable } from "./scan.js";

/** Whether any file declares access: only then does the Worker ship the check. */
export function declaresAccess(table: RouteTable): boolean {
  return [...table.middleware, ...table.routes].some((f) => "access" in f.declares);
}

/** The file whose `access` is in force for `file`: its own, or the nearest folder's. */
export function accessFrom(file: RouteFile, table: RouteTable): RouteFile | undefined {
  if ("access" in file.declares) return file;
  return [...table.middleware].reverse().find((m) => m !== file && "access" in m.declares && folderCovers(m.segments, file.segments));
}

/** Whether a declaration's source lets anyone GET: `"public"`, or a rule by method whose GET is "public". */
const isPublic = (source: string | undefined) => source !== undefined && /^(["'`])public\1$|\bGET["'`]?\s*:\s*(["'`])public\2/.test(source);

/** `/members` for functions/members/_middleware.ts; undefined for a folder with a [param] in it. */
function folderPath(mw: RouteFile): string | undefined {
  if (mw.segments.some((s) => s.kind !== "literal")) return undefined;
  return mw.segments.map((s) => `/${(s as { value: string }).value}`).join("");
}

export function accessNotes(table: RouteTable, assetKeys: string[] | undefined, rateLimiterBound: boolean): string[] {
  const notes: string[] = [];
  for (const mw of table.middleware) {
    const from = accessFrom(mw, table);
    if (mw.guardsStaticFiles && !from && mw.handlers.length === 0) {
      notes.push(`functions/${mw.file} guards static files but declares no access and has no handler: they are served to anyone`);
    }
    const path = folderPath(mw);
    const guarded = table.middleware.some((g) => g.guardsStaticFiles && folderCovers(g.segments, mw.segments));
    if (from === mw && !isPublic(mw.declares.access) && path !== undefined && !guarded && assetKeys?.some((k) => k.startsWith(`${path}/`))) {
      notes.push(`functions/${mw.file} declares access, but the files in public${path}/ are served to anyone: export guardsStaticFiles from it`);
    }
  }
  for (const route of table.routes) {
    const from = route.pattern === "/login" ? accessFrom(route, table) : undefined;
    if (from && !isPublic(from.declares.access)) {
      notes.push(`functions/${route.file}: the login page is guarded (access = ${from.declares.access} from functions/${from.file}), so visitors are sent to it in a loop: declare access = "public" in it`);
    }
  }
  if (table.callsRateLimit.length && !rateLimiterBound) {
    notes.push(`${table.callsRateLimit.join(", ")} call rateLimit, but wrangler.toml binds no RATE_LIMITS Durable Object with class_name = "KilnRateLimiter" (docs/auth.md)`);
  }
  return notes;
}
