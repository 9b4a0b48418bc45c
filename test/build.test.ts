import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { build, formatRouteTable, loadRoutes } from "../src/compiler/index.js";
import { makeApp, problemsOf } from "./helpers/files.js";

const CLI = resolve(import.meta.dirname, "../dist/compiler/cli.js");


const GET = "export const onRequestGet = () => new Response('x');\n";


describe("build errors name the files", () => {
  it("two files claiming one route and method", async () => {
    expect(await problemsOf({ "functions/a.ts": GET, "functions/a/index.ts": GET })).toEqual([
      "functions/a.ts and functions/a/index.ts both handle GET /a: keep one",
    ]);
  });

  it("two parameter files at one place, whatever their names", async () => {
    const problems = await problemsOf({ "functions/u/[id].ts": GET, "functions/u/[name].js": GET });
    expect(problems).toEqual(["functions/u/[id].ts and functions/u/[name].js both handle GET /u/:id: keep one"]);
  });

  it("onRequest against a method handler of another file", async () => {
    const problems = await problemsOf({
      "functions/a.ts": "export const onRequest = () => new Response('');",
      "functions/a/index.js": "export const onRequestPost = () => new Response('');",
    });
    expect(problems[0]).toContain("functions/a.ts and functions/a/index.js both handle POST /a");
  });

  it("lets two files share a path with different methods", async () => {
    const root = makeApp({ "functions/a.ts": GET, "functions/a/index.ts": "export const onRequestPost = () => new Response('');" });
    const { table } = await build({ root });
    expect(table.routes.map((r) => r.file)).toEqual(["a.ts", "a/index.ts"]);
  });

  it.each([
    ["functions/[1id].ts", 'bad parameter name "[1id]"'],
    ["functions/[a-b].ts", 'bad parameter name "[a-b]"'],
    ["functions/[].ts", 'bad parameter name "[]"'],
    ["functions/user-[id].ts", '"user-[id]" mixes text and brackets'],
    ["functions/[id.ts", '"[id" mixes text and brackets'],
    ["functions/[[rest]]/a.ts", "must be the last part"],
    ["functions/[id]/[id].ts", 'parameter "id" appears twice'],
    ["functions/:x.ts", 'may not start with ":"'],
  ])("a bad parameter or file name: %s", async (file, message) => {
    const problems = await problemsOf({ [file]: GET });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(file);
    expect(problems[0]).toContain(message);
  });

  it("a misspelt handler export, with a suggestion", async () => {
    const problems = await problemsOf({ "functions/a.ts": "export const onRequestGET = () => new Response('');" });
    expect(problems).toEqual(['functions/a.ts: unknown handler export "onRequestGET": did you mean "onRequestGet"?']);
  });

  it("export * (the build cannot see the handlers)", async () => {
    const problems = await problemsOf({ "functions/a.ts": "export * from './b';" });
    expect(problems[0]).toMatch(/^functions\/a\.ts: `export \* from`/);
  });

  it.each([
    ["onRequestGte", '"onRequestGet"'],
    ["onRequestPots", '"onRequestPost" or "onRequestPut"'],
    ["on_request_get", '"onRequestGet"'],
    ["onRequestOption", '"onRequestOptions"'],
  ])("a misspelt handler export %s, with the near miss %s", async (name, suggestion) => {
    const problems = await problemsOf({ "functions/a.ts": `export const ${name} = () => new Response('');` });
    expect(problems).toEqual([`functions/a.ts: unknown handler export "${name}": did you mean ${suggestion}?`]);
  });

  it("a syntax error, with the parser's own message and its line and column", async () => {
    const problems = await problemsOf({ "functions/a.ts": "const x = 1;\n\nexport const onRequest = () => { return (;\n}}}" });
    expect(problems).toEqual(['functions/a.ts: syntax error at line 3, column 42: Unexpected ";"']);
  });

  it("a syntax error, with line and column", async () => {
    const problems = await problemsOf({ "functions/a.ts": "const x = 1;\nexport const onRequest = () => { return (;\n}}}" });
    expect(problems[0]).toMatch(/^functions\/a\.ts: syntax error at line \d+, column \d+/);
  });

  it("a middleware file without a handler", async () => {
    const problems = await problemsOf({ "functions/_middleware.ts": "export const helper = 1;" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^functions\/_middleware\.ts: a _middleware file must export onRequest \(or onRequestGet, \.\.\.\) or a declaration \(.*csrf.*\)$/);
  });

  it("param types that name another file than their own", async () => {
    const problems = await problemsOf({
      "functions/users/[id].ts": 'import type { Handler } from "kiln";\nexport const onRequestGet: Handler<"users/[name].ts"> = () => new Response("");',
    });
    expect(problems).toEqual(['functions/users/[id].ts: types its params as "users/[name].ts", but its own path is "users/[id].ts"']);
  });

  it("no functions/ folder", async () => {
    const problems = await problemsOf({ "README.md": "" });
    expect(problems[0]).toContain("no functions/ folder");
  });

  it("reports every problem at once", async () => {
    const problems = await problemsOf({ "functions/[1].ts": GET, "functions/b.ts": "export const onrequest = 1;" });
    expect(problems).toHaveLength(2);
  });

  it("fails at start-up, naming the file, when an export is not a function", async () => {
    const { startApp } = await import("./helpers/app.js");
    const root = makeApp({ "functions/a.ts": "export const onRequestGet = [() => new Response(''), 42];" });
    let output = "";
    await expect(startApp(root, { onOutput: (text) => (output += text) })).rejects.toThrow(/failed to start/);
    expect(output).toMatch(/route \/a: onRequestGet\[1\] is not a function/);
  });
});

describe("the build output", () => {
  it("ships the ETag step only to apps whose code mentions Cache-Control or exports cache", async () => {
    const entryOf = async (files: Record<string, string>) => {
      const { outFile } = await build({ root: makeApp(files) });
      return readFileSync(outFile, "utf8");
    };
    expect(await entryOf({ "functions/a.ts": GET })).not.toContain("etag.js");
    const helper = "export const cached = (body) => new Response(body, { headers: { 'Cache-Control': 'max-age=60' } });\n";
    expect(await entryOf({ "functions/a.ts": GET, "functions/lib/respond.ts": helper })).toMatch(/import \{ validate \} from ".*etag\.js";/);
    expect(await entryOf({ "functions/a.ts": "export const cache = { maxAge: 1 };\n" + GET })).toContain("validate");
  });

  it("ships the middleware part only to apps that have a _middleware file", async () => {
    const entryOf = async (files: Record<string, string>) => readFileSync((await build({ root: makeApp(files) })).outFile, "utf8");
    expect(await entryOf({ "functions/a.ts": GET })).not.toContain("middleware.js");
    const folderOnly = "export const csrf = false;\n"; // declarations alone make a _middleware file too
    for (const mw of [`export const onRequest = ({ next }) => next();\n`, folderOnly]) {
      expect(await entryOf({ "functions/a.ts": GET, "functions/api/_middleware.ts": mw })).toMatch(/import \{ middleware \} from ".*middleware\.js";/);
    }
  });

  it("types exported with `export type` are not handlers, and helpers are not routes", async () => {
    const root = makeApp({
      "functions/a.ts": "export type onRequestX = string;\nexport interface Foo {}\n" + GET,
      "functions/util.ts": "export function helper() {}",
    });
    const table = await loadRoutes(root);
    expect(table.routes.map((r) => [r.pattern, r.handlers.map((h) => h.name)])).toEqual([["/a", ["onRequestGet"]]]);
  });

  it("orders routes by precedence: literal, [param], [[catchall]]", async () => {
    const root = makeApp({
      "functions/[[all]].ts": GET,
      "functions/index.ts": GET,
      "functions/u/[id].ts": GET,
      "functions/u/new.ts": GET,
      "functions/u/[id]/[[rest]].ts": GET,
      "functions/u/[id]/edit.ts": GET,
    });
    const table = await loadRoutes(root);
    expect(table.routes.map((r) => r.pattern)).toEqual([
      "/",
      "/u/new",
      "/u/:id",
      "/u/:id/edit",
      "/u/:id/:rest*",
      "/:all*",
    ]);
  });

  it("does not rewrite an unchanged entry (so wrangler's watcher stays quiet)", async () => {
    const root = makeApp({ "functions/index.ts": GET });
    const { outFile } = await build({ root });
    const before = readFileSync(outFile, "utf8");
    writeFileSync(outFile, before + "// marker\n");
    await build({ root });
    expect(readFileSync(outFile, "utf8")).toBe(before);
  });
});

describe("the kiln command", () => {
  it("kiln build writes .kiln/worker.ts by default and --out elsewhere", () => {
    const root = makeApp({ "functions/index.ts": GET });
    const out = execFileSync("node", [CLI, "build", "--root", root], { encoding: "utf8" });
    expect(out).toMatch(/kiln: 1 route, 0 middleware → .*\.kiln\/worker\.ts/);
    expect(readFileSync(join(root, ".kiln/worker.ts"), "utf8")).toContain("createHandler");
    execFileSync("node", [CLI, "build", "--root", root, "--out", join(root, "elsewhere/entry.ts")]);
    expect(readFileSync(join(root, "elsewhere/entry.ts"), "utf8")).toContain("../functions/index.ts");
  });

  it("kiln build exits 1 and lists the problems", () => {
    const root = makeApp({ "functions/a.ts": GET, "functions/a/index.ts": GET });
    const run = spawnSync("node", [CLI, "build", "--root", root], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("kiln: build failed");
    expect(run.stderr).toContain("functions/a.ts and functions/a/index.ts both handle GET /a");
  });

  it("kiln routes prints pattern, methods, file and middleware chain", async () => {
    const root = makeApp({
      "functions/_middleware.ts": "export const onRequest = ({ next }) => next();",
      "functions/api/_middleware.ts": "export const onRequest = ({ next }) => next();",
      "functions/api/users/[id].ts": GET + "export const onRequestDelete = () => new Response('');",
      "functions/index.ts": GET,
    });
    const out = execFileSync("node", [CLI, "routes", "--root", root], { encoding: "utf8" });
    expect(out.split("\n").map((l) => l.split(/\s{2,}/))).toEqual([
      ["pattern", "methods", "file", "middleware", "declares"],
      ["/", "GET", "index.ts", "_middleware.ts", "-"],
      ["/api/users/:id", "GET,DELETE", "api/users/[id].ts", "_middleware.ts > api/_middleware.ts", "-"],
      ["/*", "ANY", "_middleware.ts", "(middleware)", "-"],
      ["/api/*", "ANY", "api/_middleware.ts", "(middleware)", "-"],
      [""],
    ]);
    expect(`${formatRouteTable(await loadRoutes(root))}\n`).toBe(out); // the CLI prints what the library formats
  });

  it("kiln routes prints each route's declarations, and the folder a declaration comes from", () => {
    const root = makeApp({
      "functions/hooks/_middleware.ts": "export const csrf = false;\n",
      "functions/hooks/pay.ts": "export const onRequestPost = () => new Response('');",
      "functions/hooks/admin.ts": "export const csrf = true;\nexport const cache = { maxAge: 1 };\n" + GET,
      "functions/hooks/inner/_middleware.ts": "export const csrf = true;\n",
      "functions/hooks/inner/x.ts": GET,
      "functions/index.ts": GET,
    });
    const out = execFileSync("node", [CLI, "routes", "--root", root], { encoding: "utf8" });
    expect(out.split("\n").map((l) => l.split(/\s{2,}/))).toEqual([
      ["pattern", "methods", "file", "middleware", "declares"],
      ["/", "GET", "index.ts", "-", "-"],
      ["/hooks/admin", "GET", "hooks/admin.ts", "-", "cache, csrf=true"],
      ["/hooks/inner/x", "GET", "hooks/inner/x.ts", "-", "csrf=true (hooks/inner/_middleware.ts)"],
      ["/hooks/pay", "POST", "hooks/pay.ts", "-", "csrf=false (hooks/_middleware.ts)"],
      ["/hooks/*", "-", "hooks/_middleware.ts", "(middleware)", "csrf=false"],
      ["/hooks/inner/*", "-", "hooks/inner/_middleware.ts", "(middleware)", "csrf=true"],
      [""],
    ]);
  });

  it("kiln routes shows the middleware the runtime runs: a [[catchall]] file is not in the [param] folder beside it", async () => {
    const mark = (name: string) => `export const onRequest = async ({ next }) => { const r = await next(); r.headers.append("x-mw", "${name}"); return r; };\n`;
    const root = makeApp({
      "functions/users/_middleware.ts": mark("users"),
      "functions/users/[id]/_middleware.ts": mark("id"),
      "functions/users/[id]/posts.ts": GET,
      "functions/users/[[rest]].ts": GET,
    });
    const out = execFileSync("node", [CLI, "routes", "--root", root], { encoding: "utf8" });
    const chains = Object.fromEntries(out.split("\n").slice(1, 3).map((l) => l.split(/\s{2,}/)).map((row) => [row[0], row[3]]));
    expect(chains).toEqual({
      "/users/:id/posts": "users/_middleware.ts > users/[id]/_middleware.ts",
      "/users/:rest*": "users/_middleware.ts",
    });
    const { startApp } = await import("./helpers/app.js");
    const app = await startApp(root);
    try {
      expect((await app.fetch("/users/5/posts")).headers.get("x-mw")).toBe("id, users");
      expect((await app.fetch("/users/5")).headers.get("x-mw")).toBe("users");
    } finally {
      await app.dispose();
    }
  });

  it("a csrf declaration that is not true or false fails at start-up, naming the route", async () => {
    const { startApp } = await import("./helpers/app.js");
    const root = makeApp({ "functions/a.ts": "const off = 'no';\nexport const csrf = off;\n" + GET });
    let output = "";
    await expect(startApp(root, { onOutput: (text) => (output += text) })).rejects.toThrow(/failed to start/);
    expect(output).toMatch(/\/a: csrf must be true or false/);
  });

  it("kiln with an unknown command says so, suggests the nearest, prints the usage and exits 1", () => {
    const run = spawnSync("node", [CLI, "bild"], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^kiln: unknown command "bild": did you mean "build"\?\n\nusage:/);
    expect(spawnSync("node", [CLI, "xyzzy"], { encoding: "utf8" }).stderr).toMatch(/^kiln: unknown command "xyzzy"\n/);
  });

  it.each([[[]], [["help"]], [["--help"]], [["-h"]], [["build", "--help"]]])("kiln %j prints the usage and exits 0", (args) => {
    const run = spawnSync("node", [CLI, ...args], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage:\n  kiln build/);
  });

  it("kiln --version prints the package's version", () => {
    const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8"));
    const run = spawnSync("node", [CLI, "--version"], { encoding: "utf8" });
    expect([run.status, run.stdout]).toEqual([0, `kiln ${version}\n`]);
  });
});
