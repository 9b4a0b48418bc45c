// The build side of kiln (runs in Node): functions/ in, one Worker entry out.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { assetKey } from "../runtime/static-files.js";
import { FOLDER_DECLARATIONS } from "../runtime/declarations.js";
import { folderCovers } from "../runtime/routing.js";
import { notFoundMode, scanPublic } from "./assets.js";
import { compileTemplates } from "./template/index.js";
import { runWorkerFirstPatterns, syncWranglerToml } from "./worker-first.js";
import { generateEntry, generateTemplatesModule, templatesModulePath, TEMPLATES_MODULE_HEADER } from "./entry.js";
import { lexerReady } from "./exports.js";
import { accessFrom, accessNotes, declaresAccess } from "./access.js";
import { BuildError, scanRoutes, type RouteFile, type RouteTable } from "./scan.js";
import { bindingNames, bindsClass, readWranglerConfig, staleTypesNote, tablesAt, type WranglerConfig } from "./wrangler-config.js";
import { checkWorkerConfig, readWorkerFile } from "./worker.js";
import { missingBindingNotes } from "./config-notes.js";
import { walkFiles } from "./walk.js";

export { BuildError, type RouteFile, type RouteTable } from "./scan.js";

export interface BuildOptions {
  /** The app's folder, holding functions/. Default: the current directory. */
  root?: string;
  /** Where the Worker entry goes. Default: ROOT/.kiln/worker.ts. */
  out?: string;
  /** The static assets folder ([assets] directory in wrangler.toml). Default: ROOT/public. */
  assets?: string;
  /** List the files of folders without an index.html, as `python -m http.server` does. Default: off. */
  listings?: boolean;
  /** Serve public/index.html to browser navigations that nothing serves. Default: as Pages, when public/ has index.html and no 404.html. */
  spa?: boolean;
  /** Under wrangler dev: errors thrown with DEBUG on go to wrangler's error page, with the stack mapped to the source files (runtime/dev-errors.ts). */
  dev?: boolean;
}

export interface BuildResult {
  table: RouteTable;
  outFile: string;
  /** The [assets] run_worker_first patterns the guarded folders need. */
  runWorkerFirst: string[];
  /** Things to tell the user that are not errors. */
  notes: string[];
}

export async function loadRoutes(root = "."): Promise<RouteTable> {
  await lexerReady;
  return scanRoutes(join(resolve(root), "functions"));
}

export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const root = resolve(options.root ?? ".");
  const outFile = resolve(options.out ?? join(root, ".kiln/worker.ts"));
  const table = await loadRoutes(root);
  const assetsDir = resolve(root, options.assets ?? "public");
  const files = scanPublic(assetsDir, { listings: options.listings, spa: options.spa });
  const access = declaresAccess(table);
  const config = readWranglerConfig(root);
  // The access check reads the user from the session.
  const store = sessionStore(config);
  const sessions = store.durable ? "durable" : table.mentionsSession || bindingNames(config).has("SESSIONS") || access;
  const rateLimiter = bindsClass(config, "KilnRateLimiter");
  const { worker, problems: workerProblems } = readWorkerFile(join(root, "functions"));
  const { set: templates, problems } = compileTemplates(join(root, "templates"), table.streams);
  const kilnClasses = [...(rateLimiter ? ["KilnRateLimiter"] : []), ...(store.durable ? ["KilnSessionStore"] : [])];
  problems.push(...workerProblems, ...store.problems, ...checkWorkerConfig(config, worker, kilnClasses));
  problems.push(...checkLinks(table, join(root, "templates")));
  for (const r of [...table.renders, ...(worker?.renders ?? [])]) {
    if (!templates?.names.includes(r.name)) problems.push(`${r.file}:${r.line}: ${("call" in r && r.call) || "render"}("${r.name}"): no such template in templates/`);
  }
  const templatesFile = templatesModulePath(outFile);
  if (templates && !(readIfExists(templatesFile)?.startsWith(TEMPLATES_MODULE_HEADER) ?? true)) {
    problems.push(`${templatesFile}: not written by kiln build, which puts the compiled templates there; move it or choose another --out`);
  }
  if (problems.length) throw new BuildError(problems);
  // Security headers go on HTML: apps that make none (an API) ship and run none of it.
  const security = !!templates || table.makesHtml || !!files.pages?.length || !!files.spa;
  const cors = [...table.routes, ...table.middleware].some((f) => "cors" in f.declares);
  const source = generateEntry(table, join(root, "functions"), outFile, { files, sessions, templates, access, rateLimiter, worker, security, cors, dev: options.dev });
  const runWorkerFirst = runWorkerFirstPatterns(table);
  const notes = [syncWranglerToml(root, runWorkerFirst), notFoundMode(files), ...shadowedRoutes(table, files.keys), ...accessNotes(table, files.keys, rateLimiter), staleTypesNote(root, config), ...missingBindingNotes(root, config, table, assetsDir)].filter((n): n is string => !!n);
  mkdirSync(dirname(outFile), { recursive: true });
  // The templates first: the entry that imports them must never be seen without them.
  if (templates) writeIfChanged(templatesFile, generateTemplatesModule(templates, outFile));
  writeIfChanged(outFile, source);
  writeIfChanged(join(dirname(outFile), "routes.d.ts"), routeTypes(table));
  return { table, outFile, runWorkerFirst, notes };
}

/** The app's routes for urlFor's type (runtime/url-for.ts): an app whose tsconfig includes this file gets a tsc error for a link to a missing route. */
function routeTypes(table: RouteTable): string {
  const names = table.routes.flatMap((r) => [r.file, r.pattern]);
  return [
    "// Generated by `kiln build` from functions/: do not edit. The routes urlFor() may name.",
    "declare global {",
    "  namespace Kiln {",
    "    interface Routes {",
    ...[...new Set(names)].map((n) => `      ${JSON.stringify(n)}: true;`),
    "    }",
    "  }",
    "}",
    "export {};",
    "",
  ].join("\n");
}

/** urlFor("file") in functions/ and url_for("file") in templates/ must name a route file (or its pattern). */
function checkLinks(table: RouteTable, templatesDir: string): string[] {
  const known = new Set(table.routes.flatMap((r) => [r.file, r.pattern]));
  const links = [...table.links];
  for (const file of walkFiles(templatesDir) ?? []) {
    const source = readFileSync(join(templatesDir, file), "utf8");
    for (const m of source.matchAll(/\burl_for\(\s*["']([^"']+)["']/g)) {
      links.push({ file: `templates/${file}`, name: m[1], line: source.slice(0, m.index).split("\n").length });
    }
  }
  return links
    .filter((l) => !known.has(l.name))
    .map((l) => `${l.file}:${l.line}: ${l.file.startsWith("templates/") ? "url_for" : "urlFor"}("${l.name}"): no route file functions/${l.name} (kiln routes lists them)`);
}

/**
 * Whether SESSIONS is kiln's Durable Object store: one entry serves every environment, so an
 * environment that binds SESSIONS to KV, or the class under another name, is a build error.
 */
function sessionStore(config: WranglerConfig | undefined): { durable: boolean; problems: string[] } {
  if (!bindsClass(config, "KilnSessionStore")) return { durable: false, problems: [] };
  const problems: string[] = [];
  for (const { prefix, settings } of config!.environments) {
    const store = tablesAt(settings, "durable_objects.bindings").find((t) => t.class_name === "KilnSessionStore");
    if (store && store.name !== "SESSIONS") {
      problems.push(`${config!.file}: ${prefix}durable_objects.bindings "${String(store.name)}" has class_name = "KilnSessionStore": kiln's session store is read as SESSIONS, so name the binding SESSIONS`);
    }
    if (tablesAt(settings, "kv_namespaces").some((t) => t.binding === "SESSIONS")) {
      problems.push(`${config!.file}: ${prefix}kv_namespaces binds SESSIONS while a Durable Object binding uses KilnSessionStore: bind SESSIONS once, to one store`);
    }
  }
  return { durable: true, problems };
}

/** A route whose path a static file also answers never runs: the file is served first. */
function shadowedRoutes(table: RouteTable, keys: string[] | undefined): string[] {
  if (!keys) return [];
  const files = new Set(keys);
  return table.routes
    .filter((r) => r.segments.every((s) => s.kind === "literal") && files.has(assetKey(r.pattern)))
    .map((r) => `functions/${r.file} never runs for ${r.pattern}: a file in public/ answers that path first`);
}

/** An unchanged file is not rewritten, so wrangler's watcher does not rebuild for nothing. */
function writeIfChanged(file: string, text: string): void {
  if (readIfExists(file) !== text) writeFileSync(file, text);
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The table `kiln routes` prints: pattern, methods, file, middleware chain, declarations. When a
 * file declares access, a column shows who may reach each route and folder, so that one table
 * holds the app's permissions.
 */
export function formatRouteTable(table: RouteTable): string {
  const withAccess = declaresAccess(table);
  const access = (f: RouteFile) => (withAccess ? [accessColumn(f, table)] : []);
  const rows = [["pattern", "methods", "file", "middleware", ...(withAccess ? ["access"] : []), "declares"]];
  for (const r of table.routes) {
    const chain = table.middleware.filter((m) => folderCovers(m.segments, r.segments));
    const handlers = chain.filter((m) => m.handlers.length).map((m) => m.file);
    rows.push([r.pattern, r.handlers.map((h) => h.method).join(","), r.file, handlers.join(" > ") || "-", ...access(r), declarations(r, chain)]);
  }
  for (const m of table.middleware) {
    const methods = m.handlers.map((h) => h.method).join(",") || "-";
    rows.push([`${m.pattern === "/" ? "" : m.pattern}/*`, methods, m.file, "(middleware)", ...access(m), declarations(m, [])]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** What a file declares, with what it inherits from the folders around it (the nearest wins), and from where. */
function declarations(file: RouteFile, folders: RouteFile[]): string {
  const out: string[] = file.cache ? ["cache"] : [];
  for (const name of FOLDER_DECLARATIONS) {
    if (name === "access") continue; // a column of its own
    const from = name in file.declares ? file : [...folders].reverse().find((m) => name in m.declares);
    if (from) out.push(`${name}=${from.declares[name]}${from === file ? "" : ` (${from.file})`}`);
  }
  return out.join(", ") || "-";
}

/** The access rule in force, with the folder it comes from; undeclared is public. */
function accessColumn(file: RouteFile, table: RouteTable): string {
  const from = accessFrom(file, table);
  return from ? `${from.declares.access}${from === file ? "" : ` (${from.file})`}` : "public";
}
