// Generates one route set as route files (for kiln and Pages Functions) and as
// the same routes written for Hono, itty-router and a hand-written floor.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The shapes of a resource, in the order files are added: /resN, /resN/[id], /resN/[id]/items, /resN/[id]/items/[item]. */
const SHAPES = [
  { file: (r) => `res${r}/index.ts`, path: (r) => `/res${r}`, body: (r) => `"res${r}"` },
  { file: (r) => `res${r}/[id].ts`, path: (r) => `/res${r}/:id`, body: (r) => `"res${r} " + params.id` },
  { file: (r) => `res${r}/[id]/items.ts`, path: (r) => `/res${r}/:id/items`, body: (r) => `"res${r} items " + params.id` },
  {
    file: (r) => `res${r}/[id]/items/[item].ts`,
    path: (r) => `/res${r}/:id/items/:item`,
    body: (r) => `"res${r} item " + params.id + " " + params.item`,
  },
];

/** `count` route files: index.ts, then resources shape by shape. */
export function routeSet(count) {
  const routes = [{ file: "index.ts", path: "/", body: `"home"` }];
  for (let i = 0; routes.length < count; i++) {
    const r = Math.floor(i / SHAPES.length), shape = SHAPES[i % SHAPES.length];
    routes.push({ file: shape.file(r), path: shape.path(r), body: shape.body(r) });
  }
  return routes;
}

export function writeFunctions(root, routes) {
  rmSync(root, { recursive: true, force: true });
  // An app has static files too; kiln lists them at build time.
  mkdirSync(join(root, "public"), { recursive: true });
  writeFileSync(join(root, "public/robots.txt"), "User-agent: *\n");
  for (const route of routes) {
    const file = join(root, "functions", route.file);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `export const onRequestGet = ({ params }) => new Response(${route.body});\n`);
  }
}

/**
 * The request mix: static, param, deep param and not-found paths, spread over the resources.
 * `which`: "found" keeps only the paths a route serves, "missing" only the not-found ones.
 */
export function requestMix(routes, which = "all") {
  const resources = Math.max(1, Math.floor((routes.length - 1) / SHAPES.length));
  const paths = [];
  for (let i = 0; i < 40; i++) {
    const r = (i * 7919) % resources; // spread over the table, not just its head
    const kind = i % 4;
    if (kind === 0) paths.push(`/res${r}`);
    if (kind === 1) paths.push(`/res${r}/${1000 + i}`);
    if (kind === 2) paths.push(`/res${r}/${1000 + i}/items/${i}`);
    if (kind === 3) paths.push(i % 8 === 3 ? `/nothing/here/${i}` : `/res${r}/${i}/other`);
    if (which !== "all" && (kind === 3) !== (which === "missing")) paths.pop();
  }
  return paths;
}

/** The route handlers alone, in one module: what a bundle holds besides the framework, so its share can be told apart. */
export function handlersOnlySource(routes) {
  return routes.map((r, i) => `import { onRequestGet as h${i} } from "./functions/${r.file}";`).join("\n") + `\nexport default [${routes.map((_, i) => `h${i}`).join(", ")}];\n`;
}

const handlerBody = (route, params) => `{ const params = ${params}; return new Response(${route.body}); }`;

export function honoSource(routes) {
  const lines = routes.map((r) => `app.get(${JSON.stringify(r.path)}, (c) => ${handlerBody(r, "c.req.param()")});`);
  return `import { Hono } from "hono";\nconst app = new Hono();\n${lines.join("\n")}\nexport default app;\n`;
}

export function ittySource(routes) {
  const lines = routes.map((r) => `router.get(${JSON.stringify(r.path)}, (request) => ${handlerBody(r, "request.params")});`);
  return `import { Router } from "itty-router";\nconst router = Router();\n${lines.join("\n")}\nrouter.all("*", () => new Response("Not Found", { status: 404 }));\nexport default { fetch: (request, env, ctx) => router.fetch(request, env, ctx) };\n`;
}

/**
 * The Worker that times a routing implementation (run.js, compare.js, profile.js): /check answers with
 * what `source` says to each path of the mix, /run?n= runs the mix n times.
 */
export function routingWorker(source, paths) {
  return `import impl from ${JSON.stringify(source)};
// KILN_LOG off: the floor and the peers print no access log, and routing is what is measured here.
const env = { ASSETS: { fetch: async () => new Response("Not Found", { status: 404 }) }, KILN_LOG: "off" };
const ctx = { waitUntil() {}, passThroughOnException() {} };
const requests = ${JSON.stringify(paths)}.map((p) => new Request("http://bench.local" + p));
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/check") {
      const out = [];
      for (const r of requests) {
        const res = await impl.fetch(r, env, ctx);
        out.push([res.status, res.status === 200 ? await res.text() : ""]);
      }
      return Response.json(out);
    }
    const n = Number(url.searchParams.get("n"));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const res = await impl.fetch(requests[i % requests.length], env, ctx);
      sum += res.status;
    }
    return new Response(String(sum));
  },
};
`;
}

/**
 * The physical limit: a Map for literal paths, a split and a lookup for param
 * paths. Like every router here it reads the method, since all these routes
 * are GET routes and a POST must not get their answer. With `contract404` it
 * answers a path no route serves as kiln's contract asks (design.md): JSON to
 * a client that asks for JSON, and `Cache-Control: no-store`, so a 404 that a
 * route added later would answer is never kept. With `files`, each route is a
 * function of its own, as in a bundle of route files. With `table`, it also
 * keeps a table of its routes as data, a row per route as kiln's entry has
 * (pattern, file, handlers), which it never reads: what such a table costs a
 * Worker's heap, and so each of its garbage collections.
 */
export function floorSource(routes, { contract404 = false, files = false, table = false } = {}) {
  const literal = routes.filter((r) => !r.path.includes(":"));
  const param = routes.filter((r) => r.path.includes(":"));
  const byFirst = new Map();
  for (const r of param) {
    const [first, ...rest] = r.path.slice(1).split("/");
    if (!byFirst.has(first)) byFirst.set(first, []);
    byFirst.get(first).push({ rest, route: r });
  }
  files ||= table;
  const index = new Map(routes.map((r, i) => [r, i]));
  const answer = (r, params) => (files ? `h${index.get(r)}({ params: ${params} })` : `{ const params = ${params}; return new Response(${r.body}); }`);
  let handlers = files ? routes.map((r, i) => `const h${i} = ({ params }) => new Response(${r.body});`).join("\n") + "\n" : "";
  if (table) handlers += `globalThis.table = [\n${routes.map((r, i) => `  { pattern: ${JSON.stringify(r.path)}, file: ${JSON.stringify(r.file)}, methods: { GET: h${i} } },`).join("\n")}\n];\n`;
  const lit = literal.map((r) => `[${JSON.stringify(r.path)}, () => ${files ? answer(r, "{}") : `new Response(${r.body})`}]`).join(",\n  ");
  const groups = [...byFirst].map(([first, list]) => {
    const cases = list.map(({ rest, route }) => {
      const checks = [`s.length === ${rest.length + 1}`];
      const names = [];
      rest.forEach((seg, i) => {
        if (seg.startsWith(":")) names.push(`${seg.slice(1)}: decode(s[${i + 1}])`);
        else checks.push(`s[${i + 1}] === ${JSON.stringify(seg)}`);
      });
      return `if (${checks.join(" && ")}) ${files ? `return ${answer(route, `{ ${names.join(", ")} }`)};` : answer(route, `{ ${names.join(", ")} }`)}`;
    });
    return `[${JSON.stringify(first)}, (s, request) => { ${cases.join(" ")} return notFound(request); }]`;
  });
  const notFound = contract404
    ? `const NO_STORE = new Headers({ "cache-control": "no-store" });
const notFound = (request) => {
  const accept = request.headers.get("accept");
  if (accept !== null && accept.includes("json") && !accept.includes("text/html")) return Response.json({ error: "Not Found", status: 404 }, { status: 404, headers: NO_STORE });
  return new Response("Not Found\\n", { status: 404, headers: NO_STORE });
};`
    : `const notFound = () => new Response("Not Found", { status: 404 });`;
  return `${handlers}${notFound}
const decode = (s) => (s.includes("%") ? decodeURIComponent(s) : s);
const literal = new Map([
  ${lit}
]);
const groups = new Map([
  ${groups.join(",\n  ")}
]);
export default {
  fetch(request) {
    if (request.method !== "GET") return new Response("Method Not Allowed", { status: 405 });
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const path = q < 0 ? url.slice(start) : url.slice(start, q);
    const hit = literal.get(path);
    if (hit) return hit();
    const s = path.slice(1).split("/");
    const group = groups.get(s[0]);
    return group ? group(s, request) : notFound(request);
  },
};
`;
}
