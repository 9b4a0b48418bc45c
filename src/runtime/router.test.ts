// One table of routing cases, after Hono's src/router/common.case.test.ts:
// route files (named as under functions/) and a request → what runs. Each group
// runs against createRouter with its entries as `kiln build` writes them, in the
// compiler's order and reversed (the tree must not care), and every match is
// checked against the compiler's view of the same files: the first route in
// comparePatterns order that fits the path, and the _middleware files
// folderCovers puts around it. If the two halves ever disagree, a case fails.
import { describe, expect, it } from "vitest";
import { parseRoutePath, type RoutePath } from "../compiler/route-path.js";
import { BadPathError, createRouter, type RouteEntry } from "./router.js";
import { middleware } from "./middleware.js";
import { comparePatterns, folderCovers, formatPattern, type Segment } from "./routing.js";
import type { Handler } from "./types.js";
import { planRoutes } from "../compiler/route-plan.js";

/**
 * What the router decides for a request. `runs`: the route's own handlers, by file and
 * method; `mw`: the _middleware files that run first, outermost first. 404 is a path no
 * route serves (the folders' middleware runs, then the static files, which have nothing
 * here); 400 a path that does not decode.
 */
type Outcome =
  | { runs: string; params?: Record<string, string | string[]>; mw?: string[]; csrf?: boolean }
  | { status: 405 | 204; allow: string; mw?: string[]; csrf?: boolean }
  | { status: 404; params?: Record<string, string | string[]>; mw?: string[]; csrf?: boolean }
  | { status: 400 };

/** "users/[id].ts GET POST csrf=false": a file, the methods it exports handlers for (GET×2 for an array), its csrf declaration. */
type FileSpec = string;
type Case = [method: string, path: string, expected: Outcome];
interface Group {
  name: string;
  files: FileSpec[];
  cases: Case[];
}

const TABLE: Group[] = [
  {
    name: "the design's route table",
    files: [
      "index.ts GET",
      "about.ts GET",
      "blog/index.ts GET",
      "users/[id].ts GET",
      "users/new.ts GET",
      "files/[[path]].ts GET",
      "café.ts GET",
      "_middleware.ts ANY",
      "api/_middleware.ts ANY",
      "api/items/[id].ts GET POST",
      "api/echo.ts ANY",
    ],
    cases: [
      ["GET", "/", { runs: "index.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/about", { runs: "about.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/about/", { runs: "about.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/about//", { status: 404, mw: ["_middleware.ts"] }],
      ["GET", "/blog", { runs: "blog/index.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/blog/", { runs: "blog/index.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/users/42", { runs: "users/[id].ts GET", params: { id: "42" }, mw: ["_middleware.ts"] }],
      ["GET", "/users/new", { runs: "users/new.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/users/newer", { runs: "users/[id].ts GET", params: { id: "newer" }, mw: ["_middleware.ts"] }],
      ["GET", "/users/J%C3%BCrgen%20K", { runs: "users/[id].ts GET", params: { id: "Jürgen K" }, mw: ["_middleware.ts"] }],
      ["GET", "/users/a%2Fb", { runs: "users/[id].ts GET", params: { id: "a/b" }, mw: ["_middleware.ts"] }],
      ["GET", "/users/%6Eew", { runs: "users/new.ts GET", mw: ["_middleware.ts"] }],
      ["GET", "/users/1/2", { status: 404, params: { id: "1" }, mw: ["_middleware.ts"] }],
      ["GET", "/users//", { status: 404, mw: ["_middleware.ts"] }],
      ["GET", "/users/%E0%A4%A", { status: 400 }],
      ["GET", "/users/%ZZ", { status: 400 }],
      ["GET", "/users/a%00b", { status: 400 }],
      ["GET", "/files", { runs: "files/[[path]].ts GET", params: { path: [] }, mw: ["_middleware.ts"] }],
      ["GET", "/files/", { runs: "files/[[path]].ts GET", params: { path: [] }, mw: ["_middleware.ts"] }],
      ["GET", "/files/a/b%20c/d", { runs: "files/[[path]].ts GET", params: { path: ["a", "b c", "d"] }, mw: ["_middleware.ts"] }],
      ["GET", "/files/a%2Fb", { runs: "files/[[path]].ts GET", params: { path: ["a/b"] }, mw: ["_middleware.ts"] }],
      ["GET", "/files/a//b", { status: 404, mw: ["_middleware.ts"] }],
      ["GET", "/caf%C3%A9", { runs: "café.ts GET", mw: ["_middleware.ts"] }],
      ["HEAD", "/about", { runs: "about.ts GET", mw: ["_middleware.ts"] }],
      ["POST", "/about", { status: 405, allow: "GET, HEAD, OPTIONS", mw: ["_middleware.ts"] }],
      ["OPTIONS", "/about", { status: 204, allow: "GET, HEAD, OPTIONS", mw: ["_middleware.ts"] }],
      ["POST", "/api/items/7", { runs: "api/items/[id].ts POST", params: { id: "7" }, mw: ["_middleware.ts", "api/_middleware.ts"] }],
      ["PUT", "/api/items/7", { status: 405, allow: "GET, POST, HEAD, OPTIONS", mw: ["_middleware.ts", "api/_middleware.ts"] }],
      ["DELETE", "/api/echo", { runs: "api/echo.ts ANY", mw: ["_middleware.ts", "api/_middleware.ts"] }],
      ["OPTIONS", "/api/echo", { runs: "api/echo.ts ANY", mw: ["_middleware.ts", "api/_middleware.ts"] }],
      ["GET", "/api/nothing-here", { status: 404, mw: ["_middleware.ts", "api/_middleware.ts"] }],
      ["GET", "/nothing", { status: 404, mw: ["_middleware.ts"] }],
      ["GET", "/about.ts", { status: 404, mw: ["_middleware.ts"] }],
    ],
  },
  {
    name: "precedence and backtracking",
    files: ["index.ts GET", "[[path]].ts GET", "a/[x]/c.ts GET", "a/b/d.ts GET", "[p]/b/e.ts GET", "[p]/[q].ts GET", "a/b.ts GET"],
    cases: [
      ["GET", "/", { runs: "index.ts GET" }],
      ["GET", "/a", { runs: "[[path]].ts GET", params: { path: ["a"] } }],
      ["GET", "/a/b", { runs: "a/b.ts GET" }],
      ["GET", "/a/z", { runs: "[p]/[q].ts GET", params: { p: "a", q: "z" } }],
      ["GET", "/a/b/c", { runs: "a/[x]/c.ts GET", params: { x: "b" } }],
      ["GET", "/a/b/d", { runs: "a/b/d.ts GET" }],
      ["GET", "/a/b/e", { runs: "[p]/b/e.ts GET", params: { p: "a" } }],
      ["GET", "/a/b/f", { runs: "[[path]].ts GET", params: { path: ["a", "b", "f"] } }],
      ["GET", "/z/b/e", { runs: "[p]/b/e.ts GET", params: { p: "z" } }],
      ["GET", "/z/b/c", { runs: "[[path]].ts GET", params: { path: ["z", "b", "c"] } }],
      ["GET", "/a//", { status: 404 }],
      ["GET", "/a//b", { status: 404 }],
    ],
  },
  {
    name: "middleware folders, [param] folders and catch-alls",
    files: [
      "users/_middleware.ts ANY",
      "users/[id]/_middleware.ts ANY",
      "users/[id].ts GET",
      "users/[id]/edit.ts GET",
      "users/[[rest]].ts GET",
      "users/me.ts GET",
      "docs/[[path]].ts GET",
      "docs/[slug]/_middleware.ts ANY",
      "shop/[store]/_middleware.ts GET",
      "shop/[store]/items.ts GET",
    ],
    cases: [
      ["GET", "/users/7", { runs: "users/[id].ts GET", params: { id: "7" }, mw: ["users/_middleware.ts", "users/[id]/_middleware.ts"] }],
      ["GET", "/users/7/edit", { runs: "users/[id]/edit.ts GET", params: { id: "7" }, mw: ["users/_middleware.ts", "users/[id]/_middleware.ts"] }],
      ["GET", "/users/7/x/y", { runs: "users/[[rest]].ts GET", params: { rest: ["7", "x", "y"] }, mw: ["users/_middleware.ts"] }],
      ["GET", "/users", { runs: "users/[[rest]].ts GET", params: { rest: [] }, mw: ["users/_middleware.ts"] }],
      ["GET", "/users/me", { runs: "users/me.ts GET", mw: ["users/_middleware.ts"] }],
      ["GET", "/docs/a", { runs: "docs/[[path]].ts GET", params: { path: ["a"] } }],
      ["GET", "/shop/acme/items", { runs: "shop/[store]/items.ts GET", params: { store: "acme" }, mw: ["shop/[store]/_middleware.ts"] }],
      ["HEAD", "/shop/acme/items", { runs: "shop/[store]/items.ts GET", params: { store: "acme" }, mw: ["shop/[store]/_middleware.ts"] }],
      ["GET", "/shop/acme/nothing", { status: 404, params: { store: "acme" }, mw: ["shop/[store]/_middleware.ts"] }],
      ["GET", "/shop/acme", { status: 404, params: { store: "acme" }, mw: ["shop/[store]/_middleware.ts"] }],
      ["POST", "/shop/acme/nothing", { status: 404, params: { store: "acme" } }],
      ["POST", "/shop/acme/items", { status: 405, allow: "GET, HEAD, OPTIONS" }],
      ["GET", "/shop", { status: 404 }],
    ],
  },
  {
    name: "methods: own handlers, HEAD, OPTIONS, ANY, arrays",
    files: ["page.ts GET HEAD", "opts.ts GET OPTIONS", "any.ts ANY GET", "post.ts POST", "chain.ts GET×2", "_middleware.ts OPTIONS"],
    cases: [
      ["HEAD", "/page", { runs: "page.ts HEAD" }],
      ["GET", "/page", { runs: "page.ts GET" }],
      ["OPTIONS", "/opts", { runs: "opts.ts OPTIONS", mw: ["_middleware.ts"] }],
      ["GET", "/any", { runs: "any.ts GET" }],
      ["PATCH", "/any", { runs: "any.ts ANY" }],
      ["HEAD", "/any", { runs: "any.ts GET" }],
      ["GET", "/post", { status: 405, allow: "POST, OPTIONS" }],
      ["HEAD", "/post", { status: 405, allow: "POST, OPTIONS" }],
      ["OPTIONS", "/post", { status: 204, allow: "POST, OPTIONS", mw: ["_middleware.ts"] }],
      ["GET", "/chain", { runs: "chain.ts GET[0], chain.ts GET[1]" }],
      ["OPTIONS", "/nothing", { status: 404, mw: ["_middleware.ts"] }],
    ],
  },
  {
    name: "a file's own csrf declaration, in an app without _middleware",
    files: ["form.ts POST", "webhook.ts POST csrf=false", "hooks/[id].ts POST csrf=false"],
    cases: [
      ["POST", "/form", { runs: "form.ts POST" }],
      ["POST", "/webhook", { runs: "webhook.ts POST", csrf: false }],
      ["PUT", "/webhook", { status: 405, allow: "POST, OPTIONS", csrf: false }],
      ["POST", "/hooks/1", { runs: "hooks/[id].ts POST", params: { id: "1" }, csrf: false }],
      ["POST", "/hooks", { status: 404 }],
    ],
  },
  {
    name: "csrf declarations: the nearest wins",
    files: [
      "hooks/_middleware.ts csrf=false",
      "hooks/stripe.ts POST",
      "hooks/strict.ts POST csrf=true",
      "hooks/inner/_middleware.ts csrf=true",
      "hooks/inner/x.ts POST",
      "hooks/inner/deep/y.ts POST",
      "hooks/inner/loose.ts POST csrf=false",
      "form.ts POST",
      "webhook.ts POST csrf=false",
    ],
    cases: [
      ["POST", "/hooks/stripe", { runs: "hooks/stripe.ts POST", csrf: false }],
      ["POST", "/hooks/strict", { runs: "hooks/strict.ts POST" }],
      ["POST", "/hooks/inner/x", { runs: "hooks/inner/x.ts POST" }],
      ["POST", "/hooks/inner/deep/y", { runs: "hooks/inner/deep/y.ts POST" }],
      ["POST", "/hooks/inner/loose", { runs: "hooks/inner/loose.ts POST", csrf: false }],
      ["POST", "/hooks/nothing", { status: 404, csrf: false }],
      ["PUT", "/hooks/stripe", { status: 405, allow: "POST, OPTIONS", csrf: false }],
      ["POST", "/hooks/inner/nothing", { status: 404 }],
      ["POST", "/form", { runs: "form.ts POST" }],
      ["POST", "/webhook", { runs: "webhook.ts POST", csrf: false }],
      ["POST", "/elsewhere", { status: 404 }],
    ],
  },
];

interface Built {
  entries: RouteEntry[];
  /** Which file and method each handler stands for. */
  labels: Map<Handler, string>;
  files: (RoutePath & { methods: string[] })[];
}

/** Entries as kiln build writes them: _middleware files outermost first, then routes in precedence order. */
function build(specs: FileSpec[]): Built {
  const labels = new Map<Handler, string>();
  const files = specs.map((spec) => {
    const [file, ...rest] = spec.split(" ");
    return { ...parseRoutePath(file), methods: rest.filter((m) => !m.startsWith("csrf=")), csrf: rest.find((m) => m.startsWith("csrf="))?.slice(5) };
  });
  const order = (a: RoutePath, b: RoutePath) => Number(b.middleware) - Number(a.middleware) || (a.middleware ? a.segments.length - b.segments.length : 0) || comparePatterns(a.segments, b.segments);
  files.sort(order);
  const entries = files.map((f): RouteEntry => {
    const methods: RouteEntry["methods"] = {};
    for (const m of f.methods) {
      const [method, count] = m.split("×");
      const one = (label: string): Handler => {
        const fn: Handler = () => new Response(label);
        labels.set(fn, label);
        return fn;
      };
      methods[method] = count ? Array.from({ length: Number(count) }, (_, i) => one(`${f.file} ${method}[${i}]`)) : one(`${f.file} ${method}`);
    }
    const entry: RouteEntry = { pattern: formatPattern(f.segments), methods };
    if (f.middleware) entry.middleware = true;
    if (f.csrf !== undefined) entry.declares = { csrf: f.csrf === "true" };
    return entry;
  });
  return { entries, labels, files };
}

function outcome(built: Built, entries: RouteEntry[], method: string, path: string): Outcome {
  let found;
  try {
    // As the entry does: the middleware part only for an app with a _middleware file.
    found = createRouter(planRoutes(entries), entries.some((e) => e.middleware) ? middleware : undefined).match(path, method);
  } catch (err) {
    if (err instanceof BadPathError) return { status: 400 };
    throw err;
  }
  const { chain, params } = found;
  const labels = chain.steps.map((s) => built.labels.get(s.run)!);
  const mw = labels.filter((l) => l.includes("_middleware")).map((l) => l.split(" ")[0]);
  const own = labels.filter((l) => !l.includes("_middleware"));
  if (chain.end !== "assets") return { status: chain.end === "405" ? 405 : 204, allow: chain.allow, mw, csrf: chain.csrf };
  if (own.length === 0) return { status: 404, params, mw, csrf: chain.csrf };
  return { runs: own.join(", "), params, mw, csrf: chain.csrf };
}

/** The case's expectation with its defaults spelled out: no params, no middleware, the cross-site check on. */
function complete(expected: Outcome): Outcome {
  if ("status" in expected && expected.status === 400) return expected;
  const out: Outcome = { mw: [], csrf: true, ...expected };
  if ("allow" in out) return out;
  return { params: {}, ...out };
}

/** Decoded segments as the router sees them. */
function segmentsOf(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed === "/" ? [] : trimmed.slice(1).split("/").map(decodeURIComponent);
}

function fits(route: Segment[], segs: string[]): boolean {
  for (let i = 0; i < route.length; i++) {
    const s = route[i];
    if (s.kind === "catchall") return !segs.slice(i).includes("");
    if (i >= segs.length || (s.kind === "literal" ? s.value !== segs[i] : segs[i] === "")) return false;
  }
  return route.length === segs.length;
}

/** A file answers a method with its own handler, GET's for HEAD, or onRequest's. */
const answers = (methods: string[], method: string) => methods.includes(method) || (method === "HEAD" && methods.includes("GET")) || methods.includes("ANY");

/** The compiler's view: the first route in comparePatterns order that fits, and the _middleware files that cover it and answer the method. */
function compilerView(built: Built, method: string, path: string): { file: string; mw: string[] } | undefined {
  const segs = segmentsOf(path);
  const routes = built.files.filter((f) => !f.middleware).sort((a, b) => comparePatterns(a.segments, b.segments));
  const route = routes.find((r) => fits(r.segments, segs));
  if (!route) return undefined;
  const mw = built.files.filter((f) => f.middleware && answers(f.methods, method) && folderCovers(f.segments, route.segments));
  return { file: route.file, mw: mw.map((f) => f.file) };
}

describe.each(TABLE)("$name", ({ files, cases }) => {
  const built = build(files);
  it.each(cases)("%s %s", (method, path, expected) => {
    const got = outcome(built, built.entries, method, path);
    expect(got).toEqual(complete(expected));
    expect(outcome(built, [...built.entries].reverse(), method, path)).toEqual(got);
    if ("runs" in got) expect(compilerView(built, method, path)).toEqual({ file: got.runs.split(" ")[0], mw: got.mw });
  });
});

describe("what the table's entries cannot show", () => {
  it("a handler that is not a function is an error naming the pattern and the export", () => {
    const bad = { pattern: "/users/:id", methods: { GET: [() => new Response("ok"), "oops" as unknown as Handler] } };
    expect(() => createRouter(planRoutes([bad]))).toThrow(new TypeError("route /users/:id: onRequestGet[1] is not a function"));
    expect(() => createRouter(planRoutes([{ pattern: "/", middleware: true, methods: { ANY: 1 as unknown as Handler } }]), middleware)).toThrow(
      new TypeError("middleware /: onRequest is not a function"),
    );
  });

  it("a _middleware row without the middleware part is a start-up error, not a middleware that silently never runs", () => {
    expect(() => createRouter(planRoutes([{ pattern: "/api", middleware: true, methods: { ANY: () => new Response("mw") } }]))).toThrow(
      new TypeError("middleware /api: needs the middleware part"),
    );
  });

  it("a route's cache step runs after the middleware and before its own handlers, only for methods it has", () => {
    const cache: Handler = () => new Response("cache");
    const mw: Handler = () => new Response("mw");
    const get: Handler = () => new Response("get");
    const { match } = createRouter(planRoutes([
      { pattern: "/", middleware: true, methods: { ANY: mw } },
      { pattern: "/page", cache, methods: { GET: get } },
    ]), middleware);
    expect(match("/page", "GET").chain.steps.map((s) => s.run)).toEqual([mw, cache, get]);
    expect(match("/page", "POST").chain.steps.map((s) => s.run)).toEqual([mw]);
  });

  it("each step carries the pattern of its own file as functionPath", () => {
    const { match } = createRouter(planRoutes([
      { pattern: "/api", middleware: true, methods: { ANY: () => new Response("mw") } },
      { pattern: "/api/items/:id", methods: { GET: () => new Response("get") } },
    ]), middleware);
    expect(match("/api/items/1", "GET").chain.steps.map((s) => s.path)).toEqual(["/api", "/api/items/:id"]);
  });

  it("params of one match are not shared with the next", () => {
    const { match } = createRouter(planRoutes([{ pattern: "/users/:id", methods: { GET: () => new Response("") } }]));
    const first = match("/users/1", "GET").params;
    first.id = "changed";
    expect(match("/users/1", "GET").params).toEqual({ id: "1" });
  });
});
