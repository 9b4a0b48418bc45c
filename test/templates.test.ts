// Templates compiled by kiln build, rendered inside workerd.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build, BuildError } from "../src/build/index.js";
import { bundleEntry, startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/templates");
let app: TestApp;
beforeAll(async () => {
  app = await startApp(ROOT, { bindings: { SESSION_SECRET: "templates-test-secret-of-32-chars!!" } });
});
afterAll(() => app?.dispose());

const page = async (path: string, init?: RequestInit) => (await app.fetch(path, init)).text();

describe("rendering", () => {
  it("renders three levels of layout, with super()", async () => {
    const res = await app.fetch("/page");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toContain("<title>Hello · Site</title>");
    expect(html).toContain("<main>\n<h1>Hello</h1>");
    expect(html).toContain("<footer>base footer + page footer</footer>");
    expect(html).not.toContain("a comment");
  });

  it("escapes hostile input in text and attribute positions, and | safe opts out", async () => {
    const html = await page("/page?name=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    expect(html).toContain('<p class="name" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;');
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain("<p><em>trusted</em> &lt;em&gt;trusted&lt;/em&gt;</p>");
  });

  it("makes tojson safe inside <script>", async () => {
    const html = await page("/page");
    expect(html).toContain(
      '<script>const data = {"html":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e","quote":"it\\u0027s \\u0026 \\u003cok\\u003e"};</script>',
    );
  });

  it("runs loops with loop.index, loop.first, loop.last, cycle, and includes", async () => {
    const html = await page("/page");
    expect(html).toContain('<li class="odd">1/3 ONE first</li>');
    expect(html).toContain('<li class="even">2/3 TWO</li>');
    expect(html).toContain('<li class="odd">3/3 THREE last</li>');
  });

  it("runs a loop's else for an empty list, and passes the status", async () => {
    const res = await app.fetch("/empty");
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("<ul>\n  <li>nothing</li>\n</ul>\n");
  });

  it("calls macros from {% import %} and {% from %}, with named arguments and defaults", async () => {
    expect(await page("/page")).toContain('<button class="primary">Save</button> <b>3</b>');
  });

  it("applies the filters and operators", async () => {
    expect((await page("/filters")).trim()).toBe(
      "a, b|Hello World|x|the...|a+b+c|3|8|3.14|43|a%20b%26c|none|3|&lt;b&gt;|&lt;b&gt;|7|true|3|a1b|Ada||012",
    );
  });

  it("gives templates the request", async () => {
    expect((await page("/request?q=1")).trim()).toBe("GET http://localhost/request?q=1");
  });

  it("shows the session's flash messages, once", async () => {
    const flash = await app.fetch("/flash", { method: "POST" });
    const cookie = flash.headers.get("set-cookie")!.split(";")[0];
    expect(await page("/flash", { headers: { cookie } })).toContain('<p class="flash success">Saved &lt;ok&gt;</p>');
    expect(await page("/flash", { headers: { cookie } })).not.toContain("Saved");
  });

  it("compiles to functions: the built bundle has no eval or new Function", async () => {
    const out = mkdtempSync(join(tmpdir(), "kiln-tpl-"));
    const { outFile } = await build({ root: ROOT, out: join(out, "worker.ts") });
    const bundle = await bundleEntry(outFile, { minify: true }); // minified: comments are gone, code is what runs
    expect(bundle).toMatch(/\.block\(/); // the compiled templates are in it
    expect(bundle).not.toMatch(/new Function|\bFunction\(|\beval\(/);
  });
});

describe("template build errors, with file and line", () => {
  function problems(files: Record<string, string>): Promise<string[]> {
    const root = mkdtempSync(join(tmpdir(), "kiln-tpl-"));
    for (const [file, text] of Object.entries({ "functions/index.ts": "export const onRequestGet = () => new Response('');", ...files })) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    return build({ root }).then(
      () => [],
      (err) => {
        if (err instanceof BuildError) return err.problems;
        throw err;
      },
    );
  }

  it.each([
    ["{% if x %}never closed", "templates/t.html:1: {% if %} is never closed"],
    ["a\n{% for x in %}{% endfor %}", 'templates/t.html:2: {% for %} needs "name in items", got "x in"'],
    ["{{ x | nosuchfilter }}", 'templates/t.html:1: unknown filter "nosuchfilter" in "x | nosuchfilter"'],
    ["{{ 1 + }}", 'templates/t.html:1: the expression ends too soon in "1 +"'],
    ["\n\n{% frobnicate %}", "templates/t.html:3: unknown tag {% frobnicate %}"],
    ["{% if x %}{% endfor %}", "templates/t.html:1: {% endfor %} closes {% if %} (line 1)"],
    ["{{ x ", 'templates/t.html:1: "{{" is never closed with "}}"'],
    ['{% extends "nope.html" %}', 'templates/t.html:1: no template "nope.html" in templates/'],
    ['{% include "missing.html" %}', 'templates/t.html:1: no template "missing.html" in templates/'],
  ])("%s", async (text, message) => {
    expect(await problems({ "templates/t.html": text })).toEqual([message]);
  });

  it("an unknown template named by render() in a route file", async () => {
    const found = await problems({
      "templates/a.html": "a",
      "functions/x.ts": 'export const onRequestGet = ({ render }) =>\n  render("b.html");',
    });
    expect(found).toEqual(['functions/x.ts:2: render("b.html"): no such template in templates/']);
  });
});
