// Matching, on the plan `kiln build` wrote: a Map of the literal paths (one
// lookup) and a tree of path segments for the rest, so the cost of a match
// grows with the depth of the path, never with the number of routes. The
// build decides the tree, the literal map and the middleware around each file
// (src/compiler/route-plan.ts); the Worker only reads them, and makes each
// file's chains on the first request that needs them. itty-router was
// measured in this place and lost at 1,000 routes (it tries each route's
// RegExp in turn): see bench/README.md.
import type { Declarations } from "./declarations.js";
import { handlerExport, paramNames } from "./routing.js";
import type { Handler } from "./types.js";

/** One row of the table that `kiln build` writes. */
export interface RouteEntry {
  pattern: string;
  /** The file, relative to functions/: an error a handler makes names it. */
  file?: string;
  /** A _middleware file (left out for a route file). */
  middleware?: boolean;
  methods: Record<string, Handler | Handler[]>;
  /** The route's caching step (src/runtime/cache.ts), when the file exports `cache`. */
  cache?: Handler;
  /** The file's declarations (declarations.ts): for a _middleware, its folder's. */
  declares?: Declarations;
  /** The _middleware rows that run around this route, outermost first (left out when none). */
  around?: number[];
}

/**
 * The route tree, folder by folder (0 is the root), as columns: a few arrays
 * whatever the number of routes, not an object per folder. Every object a
 * Worker keeps lengthens each of V8's garbage collections, which run all the
 * time under load: at 10,000 routes, an object per folder cost a tenth of the
 * throughput (bench/README.md).
 */
export interface Tree {
  /** The folder's route file (its row), or -1. */
  route: Int32Array;
  /** The [param] folder below, or 0: the root is no folder's child. */
  param: Int32Array;
  /** The folder's [[catchall]] file, or -1. */
  catchall: Int32Array;
  /** The literal folders below: one segment (its folder in `next`), or a Map of several. */
  edge: (string | Map<string, number> | undefined)[];
  next: Int32Array;
  /** For the middleware part only: each folder's _middleware rows and those above, outermost first. */
  middleware?: number[][];
  /** For the middleware part only: the params down to each folder, for the middleware of a path no route serves. */
  names?: string[][];
}

const NONE: never[] = [];

/** The tree as the entry spells it (compiler/route-plan.ts): several literal folders as pairs, 0 for none. */
export function tree(route: number[], param: number[], catchall: number[], edge: (string | [string, number][] | 0)[], next: number[], middleware?: number[][], names?: string[][]): Tree {
  const ints = (column: number[]) => Int32Array.from(column);
  return { route: ints(route), param: ints(param), catchall: ints(catchall), edge: edge.map((e) => (e === 0 ? undefined : typeof e === "string" ? e : new Map(e))), next: ints(next), middleware, names };
}

/** The literal folder `seg` below folder `at`, or 0. */
export function childOf({ edge, next }: Tree, at: number, seg: string): number {
  const e = edge[at];
  return e === undefined ? 0 : typeof e === "string" ? (e === seg ? next[at] : 0) : (e.get(seg) ?? 0);
}

/** What `kiln build` decides about the routes, emitted as data in the entry. */
export interface RoutePlan {
  entries: RouteEntry[];
  tree: Tree;
  /** Paths with no params → their route row. */
  literal: Map<string, number>;
}

export interface Step {
  run: Handler;
  /** functionPath of the file the handler comes from. */
  path: string;
  /** The export, for errors: onRequestGet, onRequest[1]; kiln's own steps (cache) have none. */
  name?: string;
  file?: string;
}

/** What runs for one path and method: middleware, then the route's handlers, then `end`. */
export interface Chain {
  steps: Step[];
  /** assets: fall through to static files; 405: no handler for the method; options: answer 204 with Allow. */
  end: "assets" | "405" | "options";
  allow: string;
  /** The declarations in force for this route: its folders', then its own (the nearest wins). */
  declared: Declarations;
  /** Refuse cross-site form posts (csrf.ts): on unless `csrf = false` is declared. */
  csrf: boolean;
  /** The route's pattern, for the log line; undefined when no route matched. */
  pattern: string | undefined;
}

/** Every chain is made here, so all share one shape, and the cross-site rule (on unless `csrf = false`) is read in one place. */
export function newChain(steps: Step[], declared: Declarations, end: Chain["end"], allow: string, pattern: string | undefined): Chain {
  return { steps, end, allow, declared, csrf: declared.csrf !== false, pattern };
}

/** A row's handlers as steps, and its chains by method: made on the first request that reaches the row. */
interface Placed {
  /** The names of the pattern's params, in order. */
  names: string[];
  methods: Record<string, Step[]>;
  chains: Map<string, Chain>;
  allow: string;
}

export interface Match {
  chain: Chain;
  params: Record<string, string | string[]>;
}

/** A path whose percent-encoding does not decode. */
export class BadPathError extends Error {}

/** How an error at start-up names a row of the table: "route /users/:id", "middleware /api". */
export const entryName = (entry: RouteEntry) => `${entry.middleware ? "middleware" : "route"} ${entry.pattern}`;

/** At start-up, so a broken export stops the Worker with its route's name instead of failing one request later. */
function checkEntry(entry: RouteEntry): void {
  for (const method in entry.methods) {
    const value = entry.methods[method];
    const list = Array.isArray(value) ? value : [value];
    for (let i = 0; i < list.length; i++) {
      if (typeof list[i] !== "function") throw new TypeError(`${entryName(entry)}: ${handlerExport(method)}${Array.isArray(value) ? `[${i}]` : ""} is not a function`);
    }
  }
  const bodyLimit = entry.declares?.bodyLimit;
  if (bodyLimit !== undefined && !(Number.isSafeInteger(bodyLimit) && (bodyLimit as number) >= 0)) {
    throw new TypeError(`${entryName(entry)}: bodyLimit must be a whole number of bytes`);
  }
}

function place(entry: RouteEntry): Placed {
  const methods: Record<string, Step[]> = Object.create(null);
  const allow = new Set<string>();
  for (const method in entry.methods) {
    const value = entry.methods[method];
    const name = handlerExport(method);
    const list = Array.isArray(value) ? value : [value];
    methods[method] = list.map((run, i) => ({ run, path: entry.pattern, name: Array.isArray(value) ? `${name}[${i}]` : name, file: entry.file }));
    if (method !== "ANY") allow.add(method);
  }
  if (allow.has("GET")) allow.add("HEAD");
  allow.add("OPTIONS");
  return { names: paramNames(entry.pattern), methods, chains: new Map(), allow: [...allow].join(", ") };
}

/** The handlers a file has for a method: its own, GET's for HEAD, else onRequest's. */
function stepsFor(methods: Record<string, Step[]>, method: string): Step[] | undefined {
  return methods[method] ?? (method === "HEAD" ? methods.GET : undefined) ?? methods.ANY;
}

/** The middleware part (middleware.ts): the entry passes it in only for an app that has a _middleware file. */
export interface Layers {
  /** The middleware's steps for a method, and the declarations in force (the nearest wins). */
  around(rows: number[], method: string, own: Declarations | undefined): Pick<Chain, "steps" | "declared">;
  /** No route matched: the chain of the folders' middleware the path goes through. */
  unmatched(segs: string[], method: string): Match;
}

export type MiddlewarePart = (plan: RoutePlan, stepsOf: (row: number, method: string) => Step[] | undefined) => Layers;

export function createRouter(plan: RoutePlan, middleware?: MiddlewarePart) {
  const { entries, tree, literal } = plan;
  for (const entry of entries) {
    checkEntry(entry);
    if (entry.middleware && !middleware) throw new TypeError(`${entryName(entry)}: needs the middleware part`);
  }
  // Filled in as requests arrive, in any order: made full-length up front, so V8 keeps fast elements, not a dictionary.
  const placed: (Placed | undefined)[] = entries.map(() => undefined);
  const placedAt = (row: number) => (placed[row] ??= place(entries[row]));
  const layers = middleware?.(plan, (row, method) => stepsFor(placedAt(row).methods, method));

  /** What runs for a route row and a method, made on the first request that needs it, then kept. */
  function chainOf(row: number, method: string): Chain {
    const file = placedAt(row);
    const known = file.chains.get(method);
    if (known) return known;
    const entry = entries[row];
    const own = stepsFor(file.methods, method);
    const { steps, declared } = layers ? layers.around(entry.around ?? NONE, method, entry.declares) : { steps: [], declared: entry.declares ?? {} };
    const chain = newChain(steps, declared, own ? "assets" : method === "OPTIONS" ? "options" : "405", file.allow, entry.pattern);
    if (own && entry.cache) steps.push({ run: entry.cache, path: entry.pattern });
    if (own) steps.push(...own);
    file.chains.set(method, chain);
    return chain;
  }

  /** Finds what runs for a pathname (as in request.url: still percent-encoded). */
  function match(pathname: string, method: string): Match {
    const last = pathname.length - 1;
    const path = last > 0 && pathname.charCodeAt(last) === 47 /* / */ ? pathname.slice(0, last) : pathname;
    const encoded = path.includes("%");
    if (!encoded) {
      const row = literal.get(path);
      if (row !== undefined) return { chain: chainOf(row, method), params: {} };
    }
    const segs = path === "/" ? [] : segmentsOf(path);
    if (encoded) for (let i = 0; i < segs.length; i++) segs[i] = decodeSegment(segs[i]);
    const values: (string | string[])[] = [];
    const row = walk(tree, 0, segs, 0, values, 0);
    // No route: without middleware nothing runs, so nothing can change the shared params.
    if (row < 0) return layers ? layers.unmatched(segs, method) : TO_ASSETS;
    return { chain: chainOf(row, method), params: toParams(placedAt(row).names, values) };
  }

  return { match };
}

/** Segment by segment, in routing.ts's precedence: a literal, then [param], then [[catchall]]; backtracks when a branch dead-ends. */
function walk(t: Tree, at: number, segs: string[], i: number, values: (string | string[])[], depth: number): number {
  if (i === segs.length) {
    if (t.route[at] >= 0) return t.route[at];
    if (t.catchall[at] >= 0) values[depth] = [];
    return t.catchall[at];
  }
  const seg = segs[i];
  const child = childOf(t, at, seg);
  let found = child ? walk(t, child, segs, i + 1, values, depth) : -1;
  if (found >= 0) return found;
  const param = t.param[at];
  if (param && seg !== "" && (found = walk(t, param, segs, i + 1, values, depth + 1)) >= 0) {
    values[depth] = seg;
    return found;
  }
  if (t.catchall[at] >= 0) {
    const rest = segs.slice(i);
    if (!rest.includes("")) {
      values[depth] = rest;
      return t.catchall[at];
    }
  }
  return -1;
}

const TO_ASSETS: Match = { chain: newChain([], {}, "assets", "", undefined), params: {} };

/** The segments after the leading slash. By hand: split() costs V8 about three times as much, on every request. */
function segmentsOf(path: string): string[] {
  const segs: string[] = [];
  let from = 1;
  for (let slash = path.indexOf("/", from); slash >= 0; slash = path.indexOf("/", from)) {
    segs.push(path.slice(from, slash));
    from = slash + 1;
  }
  segs.push(path.slice(from));
  return segs;
}

export function toParams(names: string[], values: (string | string[])[]): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (let i = 0; i < names.length; i++) params[names[i]] = values[i];
  return params;
}

/** Percent-decodes one segment; malformed encoding, or a NUL byte that no file name or param should hold, is a bad path. */
function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new BadPathError(segment);
  }
  if (decoded.includes("\0")) throw new BadPathError(segment);
  return decoded;
}
