// Matching. Literal paths are one Map lookup; the rest walk a tree of path
// segments built once at start-up, so the cost of a match grows with the depth
// of the path, never with the number of routes. itty-router was measured in
// this place and lost at 1,000 routes (it tries each route's RegExp in turn):
// see bench/README.md.
import { mergeDeclarations, type Declarations } from "./declarations.js";
import { handlerExport, parsePattern } from "./routing.js";
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

/** A route, catch-all or middleware file, placed at its node of the tree. */
interface PlacedFile {
  pattern: string;
  cache: Handler | undefined;
  declares: Declarations | undefined;
  names: string[];
  methods: Record<string, Step[]>;
  /** The tree nodes from the root to this file's folder, for the middleware around it. */
  nodes: Node[];
  chains: Map<string, Chain>;
  allow: string;
}

interface Node {
  children: Map<string, Node>;
  param?: Node;
  route?: PlacedFile;
  catchall?: PlacedFile;
  middleware?: PlacedFile;
  /** Chains for paths that end under this node without matching a route. */
  unmatched: Map<string, Chain>;
  names: string[];
}

export interface Match {
  chain: Chain;
  params: Record<string, string | string[]>;
}

/** A path whose percent-encoding does not decode. */
export class BadPathError extends Error {}

// Every field is set from the start, so all nodes share one shape and the walk's property reads stay monomorphic.
const newNode = (names: string[]): Node => ({
  children: new Map(),
  param: undefined,
  route: undefined,
  catchall: undefined,
  middleware: undefined,
  unmatched: new Map(),
  names,
});

function toSteps(entry: RouteEntry): Record<string, Step[]> {
  const methods: Record<string, Step[]> = Object.create(null);
  for (const [method, value] of Object.entries(entry.methods)) {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((fn, i) => {
      if (typeof fn !== "function") {
        const name = handlerExport(method);
        throw new TypeError(`${entry.middleware ? "middleware" : "route"} ${entry.pattern}: ${name}${Array.isArray(value) ? `[${i}]` : ""} is not a function`);
      }
    });
    const name = handlerExport(method);
    methods[method] = list.map((run, i) => ({ run, path: entry.pattern, name: Array.isArray(value) ? `${name}[${i}]` : name, file: entry.file }));
  }
  return methods;
}

function allowHeader(methods: Record<string, Step[]>): string {
  const allow = new Set(Object.keys(methods));
  if (allow.has("GET")) allow.add("HEAD");
  allow.add("OPTIONS");
  allow.delete("ANY");
  return [...allow].join(", ");
}

/** The handlers a file has for a method: its own, GET's for HEAD, else onRequest's. */
function stepsFor(methods: Record<string, Step[]>, method: string): Step[] | undefined {
  return methods[method] ?? (method === "HEAD" ? methods.GET : undefined) ?? methods.ANY;
}

/** A chain's declarations, from its folders' _middleware files and the file's own. */
function chainDeclarations(nodes: Node[], own: Declarations | undefined): Pick<Chain, "declared" | "csrf"> {
  const declared = mergeDeclarations([...nodes.map((n) => n.middleware?.declares), own]);
  return { declared, csrf: declared.csrf !== false };
}

function middlewareSteps(nodes: Node[], method: string): Step[] {
  const steps: Step[] = [];
  for (const node of nodes) {
    const own = node.middleware && stepsFor(node.middleware.methods, method);
    if (own) steps.push(...own);
  }
  return steps;
}

/** The segment tree and the map of literal paths, built once at start-up. */
interface Tree {
  root: Node;
  literal: Map<string, PlacedFile>;
  /** Without middleware, an unmatched path runs nothing. */
  anyMiddleware: boolean;
}

/** Puts a file at its node: folders are literal or [param] nodes; a [[catchall]] file sits in its parent folder. */
function place(tree: Tree, entry: RouteEntry): void {
  let node = tree.root;
  const nodes = [node];
  const names: string[] = [];
  let catchall = false;
  for (const seg of parsePattern(entry.pattern)) {
    if (seg.kind === "catchall") {
      names.push(seg.name);
      catchall = true;
      continue;
    }
    if (seg.kind === "param") names.push(seg.name);
    let next = seg.kind === "param" ? node.param : node.children.get(seg.value);
    if (!next) {
      next = newNode([...names]);
      if (seg.kind === "param") node.param = next;
      else node.children.set(seg.value, next);
    }
    nodes.push((node = next));
  }
  const csrf = entry.declares?.csrf;
  if (csrf !== undefined && typeof csrf !== "boolean") throw new TypeError(`${entry.middleware ? "middleware" : "route"} ${entry.pattern}: csrf must be true or false`);
  const bodyLimit = entry.declares?.bodyLimit;
  if (bodyLimit !== undefined && !(Number.isSafeInteger(bodyLimit) && (bodyLimit as number) >= 0)) {
    throw new TypeError(`${entry.middleware ? "middleware" : "route"} ${entry.pattern}: bodyLimit must be a whole number of bytes`);
  }
  const methods = toSteps(entry);
  const file: PlacedFile = { pattern: entry.pattern, cache: entry.cache, declares: entry.declares, names, methods, nodes, chains: new Map(), allow: allowHeader(methods) };
  if (entry.middleware) node.middleware = file;
  else if (catchall) node.catchall = file;
  else {
    node.route = file;
    if (names.length === 0) tree.literal.set(entry.pattern, file);
  }
}

/** What runs for a file and a method, made on the first request that needs it, then kept. */
function routeChain(file: PlacedFile, method: string): Chain {
  const own = stepsFor(file.methods, method);
  const end = own ? "assets" : method === "OPTIONS" ? "options" : "405";
  const steps = middlewareSteps(file.nodes, method);
  if (own && file.cache) steps.push({ run: file.cache, path: file.pattern });
  if (own) steps.push(...own);
  const chain: Chain = { steps, end, allow: file.allow, ...chainDeclarations(file.nodes, file.declares), pattern: file.pattern };
  file.chains.set(method, chain);
  return chain;
}

/** Segment by segment, in routing.ts's precedence: a literal, then [param], then [[catchall]]; backtracks when a branch dead-ends. */
function walk(node: Node, segs: string[], i: number, values: (string | string[])[], depth: number): PlacedFile | undefined {
  if (i === segs.length) {
    if (node.route) return node.route;
    if (node.catchall) values[depth] = [];
    return node.catchall;
  }
  const seg = segs[i];
  const child = node.children.get(seg);
  let found = child && walk(child, segs, i + 1, values, depth);
  if (found) return found;
  if (node.param && seg !== "" && (found = walk(node.param, segs, i + 1, values, depth + 1))) {
    values[depth] = seg;
    return found;
  }
  if (node.catchall) {
    const rest = segs.slice(i);
    if (!rest.includes("")) {
      values[depth] = rest;
      return node.catchall;
    }
  }
  return undefined;
}

const TO_ASSETS: Match = { chain: { steps: [], end: "assets", allow: "", declared: {}, csrf: true, pattern: undefined }, params: {} };

/** No route matched: the middleware of the folders the path goes through still runs, then the assets. */
function unmatched(tree: Tree, segs: string[], method: string): Match {
  if (!tree.anyMiddleware) return TO_ASSETS; // nothing runs, so nothing can change the shared params
  const nodes = [tree.root];
  const values: string[] = [];
  let node = tree.root;
  for (const seg of segs) {
    const next = node.children.get(seg) ?? (seg !== "" ? node.param : undefined);
    if (!next) break;
    if (next === node.param) values.push(seg);
    nodes.push((node = next));
  }
  let chain = node.unmatched.get(method);
  if (!chain) node.unmatched.set(method, (chain = { steps: middlewareSteps(nodes, method), end: "assets", allow: "", ...chainDeclarations(nodes, undefined), pattern: undefined }));
  return { chain, params: toParams(node.names, values) };
}

export function createRouter(entries: RouteEntry[]) {
  const tree: Tree = { root: newNode([]), literal: new Map(), anyMiddleware: entries.some((e) => e.middleware) };
  for (const entry of entries) place(tree, entry);

  /** Finds what runs for a pathname (as in request.url: still percent-encoded). */
  function match(pathname: string, method: string): Match {
    const last = pathname.length - 1;
    const path = last > 0 && pathname.charCodeAt(last) === 47 /* / */ ? pathname.slice(0, last) : pathname;
    const encoded = path.includes("%");
    if (!encoded) {
      const file = tree.literal.get(path);
      if (file) return { chain: file.chains.get(method) ?? routeChain(file, method), params: {} };
    }
    const segs = path === "/" ? [] : path.slice(1).split("/");
    if (encoded) for (let i = 0; i < segs.length; i++) segs[i] = decodeSegment(segs[i]);
    const values: (string | string[])[] = [];
    const file = walk(tree.root, segs, 0, values, 0);
    if (!file) return unmatched(tree, segs, method);
    return { chain: file.chains.get(method) ?? routeChain(file, method), params: toParams(file.names, values) };
  }

  return { match };
}

function toParams(names: string[], values: (string | string[])[]): Record<string, string | string[]> {
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
