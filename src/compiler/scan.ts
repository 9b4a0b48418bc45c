// Finds the route files under functions/ and orders them into a route table.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkTypedPaths, ExportError, readHandlerExports, type HandlerExport } from "./exports.js";
import {
  formatPattern,
  parseRoutePath,
  routeShape,
  RoutePathError,
  ROUTE_EXTENSIONS,
  WORKER_FILES,
  type Segment,
} from "./route-path.js";
import { FOLDER_DECLARATIONS } from "../runtime/declarations.js";
import { comparePatterns } from "../runtime/routing.js";
import { walkFiles } from "./walk.js";

export interface RouteFile {
  /** Relative to functions/, forward slashes. */
  file: string;
  segments: Segment[];
  pattern: string;
  middleware: boolean;
  handlers: HandlerExport[];
  /** A _middleware that exports `guardsStaticFiles` runs before the static files of its folder too. */
  guardsStaticFiles: boolean;
  /** The file exports `cache`, its caching policy. */
  cache: boolean;
  /** The file's declarations (runtime/declarations.ts): name → the source text of its value, for `kiln routes`. */
  declares: Record<string, string>;
}

export interface RouteTable {
  /** Route files in match order (most specific first). */
  routes: RouteFile[];
  /** Middleware files, outermost first. */
  middleware: RouteFile[];
  /** Whether any file under functions/ mentions `session`: only then does the Worker ship session support. */
  mentionsSession: boolean;
  /** Whether any file under functions/ mentions Cache-Control: only then does every response get the ETag step. */
  mentionsCacheControl: boolean;
  /** A file calls renderStream: the templates carry their generators too. */
  streams: boolean;
  /** Whether any file under functions/ calls form(, json( or query(, or names InputError: only then does the Worker ship input support. */
  readsInput: boolean;
  /** Files that call rateLimit(: the build checks that wrangler.toml binds its Durable Object. */
  callsRateLimit: string[];
  /** Every `render("name"` and `renderStream("name"` in functions/ (`call`: which), to check the template exists. */
  renders: { file: string; name: string; line: number; call?: string }[];
  /** Every `urlFor("file"` in functions/, to check the route exists. */
  links: { file: string; name: string; line: number }[];
  /** Whether any file under functions/ makes HTML (html`, htmlResponse, text/html): only then do responses get the security headers step. */
  makesHtml: boolean;
}

/** A build mistake; every message names the file(s) involved. */
export class BuildError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "BuildError";
  }
}

export function listRouteFiles(functionsDir: string): string[] {
  const entries = walkFiles(functionsDir);
  if (!entries) {
    throw new BuildError([`${functionsDir}: no functions/ folder here (create it and put a route file in it, e.g. functions/index.ts)`]);
  }
  return entries.filter(
      (f) =>
        ROUTE_EXTENSIONS.some((e) => f.endsWith(e)) &&
        !f.endsWith(".d.ts") &&
        !f.split("/").some((p) => p.startsWith(".") || p === "node_modules"),
    );
}

/** context.form(), json(), query() (destructured too); Response.json( is not a read. An InputError a handler throws carries its own answer. */
const READS_INPUT = /(?<!\bResponse\.)\b(?:form|json|query)\s*\(/;

/** HTML made in a route file: the html tag, htmlResponse, a text/html Content-Type, or a headers/csp declaration. */
const MAKES_HTML = /\bhtml`|\bhtmlResponse\b|text\/html|\bexport\s+const\s+(?:headers|csp)\b/;

/** `session`, or a call of kiln's login, logout or currentUser, which keep the user in the session. */
export const USES_SESSION = /\bsession\b|\b(?:login|logout|currentUser)\s*\(/;

/** Reads functions/ into a route table, or throws a BuildError listing every problem. */
export function scanRoutes(functionsDir: string, prefix = "functions/"): RouteTable {
  const problems: string[] = [];
  const routes: RouteFile[] = [];
  const middleware: RouteFile[] = [];
  let mentionsSession = false;
  const callsRateLimit: string[] = [];
  let mentionsCacheControl = false;
  let streams = false;
  let readsInput = false;
  const renders: RouteTable["renders"] = [];
  const links: RouteTable["links"] = [];
  let makesHtml = false;
  for (const file of listRouteFiles(functionsDir)) {
    if (WORKER_FILES.includes(file)) continue; // the Worker's own exports, read by worker.ts
    try {
      const path = parseRoutePath(file);
      const source = readFileSync(join(functionsDir, file), "utf8");
      mentionsSession ||= USES_SESSION.test(source);
      if (/\brateLimit\s*\(/.test(source)) callsRateLimit.push(`${prefix}${file}`);
      mentionsCacheControl ||= /cache-control/i.test(source);
      streams ||= /\brenderStream\b/.test(source);
      readsInput ||= READS_INPUT.test(source);
      for (const m of source.matchAll(/\b(render(?:Stream)?)\(\s*["'`]([^"'`$]+)["'`]/g)) {
        renders.push({ file: `${prefix}${file}`, call: m[1], name: m[2], line: source.slice(0, m.index).split("\n").length });
      }
      for (const m of source.matchAll(/\burlFor\(\s*["'`]([^"'`$]+)["'`]/g)) {
        links.push({ file: `${prefix}${file}`, name: m[1], line: source.slice(0, m.index).split("\n").length });
      }
      makesHtml ||= MAKES_HTML.test(source);
      const { handlers, names } = readHandlerExports(source);
      checkTypedPaths(source, file);
      const guardsStaticFiles = names.includes("guardsStaticFiles");
      if (guardsStaticFiles && !path.middleware) throw new ExportError("only a _middleware file can guard static files (guardsStaticFiles)");
      const cache = names.includes("cache");
      if (cache && path.middleware) throw new ExportError("a _middleware file cannot export cache: put it in the route files");
      const declares = readDeclarations(source, names);
      const entry: RouteFile = { ...path, pattern: formatPattern(path.segments), handlers, guardsStaticFiles, cache, declares };
      if (path.middleware) {
        // A folder's declarations may stand alone; a _middleware with neither is a mistake.
        if (handlers.length === 0 && Object.keys(declares).length === 0) {
          throw new ExportError(`a _middleware file must export onRequest (or onRequestGet, ...) or a declaration (${FOLDER_DECLARATIONS.join(", ")})`);
        }
        middleware.push(entry);
      } else if (handlers.length > 0) {
        routes.push(entry); // files without handlers are helpers, not routes
      }
    } catch (err) {
      if (!(err instanceof RoutePathError || err instanceof ExportError)) throw err;
      problems.push(`${prefix}${file}: ${err.message}`);
    }
  }
  problems.push(...findConflicts(routes, prefix), ...findConflicts(middleware, prefix));
  if (problems.length) throw new BuildError(problems);
  routes.sort(compareRoutes);
  middleware.sort((a, b) => a.segments.length - b.segments.length || compareRoutes(a, b));
  return { routes, middleware, mentionsSession, mentionsCacheControl, streams, readsInput, renders, callsRateLimit, links, makesHtml };
}

/** The declarations a file exports, each with the source text of its value (or "…" when it is not written in place). */
function readDeclarations(source: string, names: string[]): Record<string, string> {
  const declares: Record<string, string> = {};
  for (const name of FOLDER_DECLARATIONS) {
    if (names.includes(name)) declares[name] = valueSource(source, name) ?? "…";
  }
  return declares;
}

/** `export const NAME = VALUE;` → VALUE, up to the `;` or line end outside brackets, on one line. */
function valueSource(source: string, name: string): string | undefined {
  const m = new RegExp(`\\bexport\\s+const\\s+${name}\\b[^=]*=\\s*`).exec(source);
  if (!m) return undefined;
  let depth = 0;
  let i = m.index + m[0].length;
  const start = i;
  for (; i < source.length; i++) {
    const c = source[i];
    if ("{[(".includes(c)) depth++;
    else if ("}])".includes(c)) depth--;
    else if (depth === 0 && (c === ";" || c === "\n")) break;
  }
  return source.slice(start, i).replace(/\s+/g, " ").trim();
}

/** Two files that answer the same URL and method: the build cannot choose for the user. */
function findConflicts(files: RouteFile[], prefix: string): string[] {
  const byShape = new Map<string, RouteFile[]>();
  for (const f of files) {
    const shape = routeShape(f.segments);
    byShape.set(shape, [...(byShape.get(shape) ?? []), f]);
  }
  const problems: string[] = [];
  for (const group of byShape.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i], b = group[j];
        const shared = overlap(a, b);
        if (shared.length) {
          const what = a.middleware ? `middleware for ${a.pattern}` : `${shared.join(", ")} ${a.pattern}`;
          problems.push(`${prefix}${a.file} and ${prefix}${b.file} both handle ${what}: keep one`);
        }
      }
    }
  }
  return problems;
}

function overlap(a: RouteFile, b: RouteFile): string[] {
  const am = a.handlers.map((h) => h.method);
  const bm = b.handlers.map((h) => h.method);
  if (am.includes("ANY") || bm.includes("ANY")) return am.includes("ANY") ? bm : am;
  return am.filter((m) => bm.includes(m));
}

/** Precedence (runtime/routing.ts), for the table's order. */
export function compareRoutes(a: RouteFile, b: RouteFile): number {
  return comparePatterns(a.segments, b.segments);
}
