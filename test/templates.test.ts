// Templates compiled by kiln build, rendered inside workerd.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build, BuildError } from "../src/compiler/index.js";
import { bundleEntry, startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/templates");
const SECRET = "templates-test-secret-of-32-chars!!";
let app: TestApp;
/** The same app with DEBUG on, which shows an error's message in the 500. */
let debugApp: TestApp;
beforeAll(async () => {
  [app, debugApp] = await Promise.all([
    startApp(ROOT, { bindings: { SESSION_SECRET: SECRET } }),
    startApp(ROOT, { bindings: { SESSION_SECRET: SECRET, DEBUG: "true" } }),
  ]);
});
afterAll(() => Promise.all([app?.dispose(), debugApp?.dispose()]));

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

describe("renderStream", () => {
  it("sends the same page as render: layouts, super(), includes, macros, tojson, escaping", async () => {
    const whole = await app.fetch("/page?name=%3Cb%3E");
    const streamed = await app.fetch("/stream?name=%3Cb%3E");
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await streamed.text()).toBe(await whole.text());
  });

  it("streams a large table whole, with the security headers and no ETag, and HEAD without a body", async () => {
    const res = await app.fetch("/stream?rows=3000");
    const html = await res.text();
    expect(html).toContain("<tr><td>1</td><td>&lt;row 0&gt;</td></tr>\n<tr><td>2</td>");
    expect(html).toContain("<tr><td>3000</td><td>&lt;row 2999&gt;</td></tr>\n</table>");
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
    expect(res.headers.get("content-security-policy")).toContain("default-src");
    expect(res.headers.get("etag")).toBeNull();
    const head = await app.fetch("/stream?rows=3000", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("ships the templates' generators and the streaming runtime only to apps that call renderStream", async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-stream-"));
    mkdirSync(join(root, "functions"));
    mkdirSync(join(root, "templates"));
    writeFileSync(join(root, "templates/t.html"), "{% for x in xs %}{{ x }}{% endfor %}\n");
    writeFileSync(join(root, "functions/a.ts"), `export const onRequestGet = ({ render }) => render("t.html", { xs: [1] });\n`);
    const module = () => readFileSync(join(root, ".kiln/templates.ts"), "utf8");
    const entry = () => readFileSync(join(root, ".kiln/worker.ts"), "utf8");
    await build({ root });
    expect(module()).not.toContain("function*");
    expect(entry()).not.toContain("template-stream");
    writeFileSync(join(root, "functions/b.ts"), `export const onRequestGet = ({ renderStream }) => renderStream("t.html", { xs: [1] });\n`);
    await build({ root });
    expect(module()).toContain("function*");
    expect(entry()).toMatch(/import \{ streamed \} from ".*template-stream\.js";/);
    writeFileSync(join(root, "functions/b.ts"), `export const onRequestGet = ({ renderStream }) => renderStream("nope.html");\n`);
    await expect(build({ root })).rejects.toThrow('functions/b.ts:1: renderStream("nope.html"): no such template in templates/');
  });
  it("says why when renderStream is called from a helper the build did not read", async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-stream-"));
    mkdirSync(join(root, "functions"));
    mkdirSync(join(root, "templates"));
    mkdirSync(join(root, "lib"));
    writeFileSync(join(root, "templates/t.html"), "<p>{{ n }}</p>\n");
    writeFileSync(join(root, "lib/page.ts"), `export const page = (context) => context.renderStream("t.html", { n: 1 });\n`);
    writeFileSync(join(root, "functions/index.ts"), `import { page } from "../lib/page.js";\nexport const onRequestGet = (context) => page(context);\n`);
    const debug = await startApp(root, { bindings: { DEBUG: "true" } });
    try {
      const res = await debug.fetch("/", { headers: { accept: "application/json" } });
      expect(res.status).toBe(500);
      expect((await res.json()).detail).toContain("kiln build saw no renderStream in functions/");
      await expect.poll(() => debug.output()).toContain("kiln build saw no renderStream in functions/");
    } finally {
      await debug.dispose();
    }
  });
});

describe("the generated templates module", () => {
  it("holds the compiled templates beside the entry, which imports it; a rebuild with nothing changed rewrites neither", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kiln-tpl-")), "worker.ts");
    await build({ root: ROOT, out });
    const module = join(dirname(out), "templates.ts");
    const text = readFileSync(module, "utf8");
    expect(text.split("\n").slice(0, 2)).toEqual([
      "// Generated by `kiln build` from templates/: do not edit. Rebuilt on every build.",
      "// @ts-nocheck: plain JavaScript, made for the Worker, not for type checks.",
    ]);
    expect(text).toContain('\n  "page.html": {\n    parent: "layout.html",\n');
    expect(readFileSync(out, "utf8")).toContain('import { templates } from "./templates.ts";');
    const before = [statSync(out).mtimeMs, statSync(module).mtimeMs];
    await new Promise((r) => setTimeout(r, 20));
    await build({ root: ROOT, out });
    expect([statSync(out).mtimeMs, statSync(module).mtimeMs]).toEqual(before);
  });

  it("is never written over a templates.ts that kiln did not write", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kiln-tpl-")), "worker.ts");
    const mine = join(dirname(out), "templates.ts");
    writeFileSync(mine, "export const mine = 1;\n");
    await expect(build({ root: ROOT, out })).rejects.toMatchObject({ problems: [`${mine}: not written by kiln build, which puts the compiled templates there; move it or choose another --out`] });
    expect(readFileSync(mine, "utf8")).toBe("export const mine = 1;\n");
  });
});

describe("hostile data and templates", () => {
  /** An attribute value as the browser reads it: up to its closing quote, then character references decoded. */
  function attribute(html: string, id: string): string {
    const m = new RegExp(`<div id="${id}" data-x=(["'])((?:(?!\\1).)*)\\1></div>`, "s").exec(html);
    if (!m) throw new Error(`no well-formed <div id="${id}"> in:\n${html}`);
    const named: Record<string, string> = { quot: '"', apos: "'", amp: "&", lt: "<", gt: ">" };
    return m[2].replace(/&(?:#(\d+)|#x([0-9a-f]+)|(\w+));/gi, (ref, dec, hex, name) =>
      dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : (named[name] ?? ref),
    );
  }

  it("tojson is valid JSON inside double- and single-quoted attributes and <script>, and breaks out of none", async () => {
    const data = {
      quote: 'say "hi"',
      apos: "it's",
      html: "</div><script>alert(1)</script>",
      entities: "&quot; &amp; &#39; &",
      breakout: 'x" onmouseover="alert(1)',
      breakout2: "x' onmouseover='alert(1)",
      backslash: 'a\\"b\\',
      'k"e\'y': [1, "two", null, true, { deep: "\u2028" }],
    };
    const html = await page(`/json-attrs?data=${encodeURIComponent(JSON.stringify(data))}`);
    expect(JSON.parse(attribute(html, "dq"))).toEqual(data);
    expect(JSON.parse(attribute(html, "sq"))).toEqual(data);
    const script = /<script>const data = (.*);<\/script>/s.exec(html)![1];
    expect(script).not.toMatch(/<\/|<!--/);
    expect(JSON.parse(script)).toEqual(data);
  });

  it("stops a macro that calls itself without end: 500, and with DEBUG a message naming the macro and the limit", async () => {
    const res = await app.fetch("/recursion?endless");
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("again");
    const debug = await debugApp.fetch("/recursion?endless");
    expect(debug.status).toBe(500);
    expect(await debug.text()).toContain('macro "again" nested more than 100 calls deep'); // the name and the limit
  });

  it("lets a recursive macro go 100 levels deep, and no further", async () => {
    expect(await page("/recursion?n=3")).toBe("3 2 1\n");
    expect((await debugApp.fetch("/recursion?endless")).status).toBe(500); // a failed render leaves no count behind
    const deep = await debugApp.fetch("/recursion?n=100");
    expect(deep.status).toBe(200);
    expect((await deep.text()).trim().split(" ")).toEqual(Array.from({ length: 100 }, (_, i) => String(100 - i)));
    const tooDeep = await debugApp.fetch("/recursion?n=101");
    expect(tooDeep.status).toBe(500);
    expect(await tooDeep.text()).toContain('macro "down" nested more than 100 calls deep');
  });

  it("renders data keys named like methods and prototype properties as data, and nothing from Object.prototype", async () => {
    const res = await app.fetch("/keys");
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split("\n")).toEqual([
      "has:i1+i2|k|v|c|c|p|p|h|t|vo",
      "has items():items=i1,i2;keys=k;values=v;__proto__=p;constructor=c;hasOwnProperty=h;toString=t;valueOf=vo;",
      "lacks:[][][][][][][][][][][][]",
      "lacks items():a=1;b=2;|a,b|1,2",
      "scope:top proto|top own|[][]|x|a1b2|set|i",
      "block:b",
      "macro:cp",
    ]);
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

  it.each([
    ["extends itself", { "a.html": '{% extends "a.html" %}' }, "templates/a.html:1: a.html → a.html: a template extends itself"],
    ["includes itself", { "a.html": 'x\n{% if deep %}{% include "a.html" %}{% endif %}' }, "templates/a.html:2: a.html → a.html: a template includes itself"],
    ["imports itself", { "a.html": '{% macro m() %}{% endmacro %}\n{% from "a.html" import m %}' }, "templates/a.html:2: a.html → a.html: a template imports itself"],
    [
      "a extends b extends a",
      { "a.html": '{% extends "b.html" %}', "b.html": '{% extends "a.html" %}' },
      "templates/a.html:1: a.html → b.html → a.html: templates include each other in a cycle",
    ],
    [
      "a includes b includes a",
      { "a.html": '<p>\n{% include "b.html" %}', "b.html": '{% include "a.html" %}' },
      "templates/a.html:2: a.html → b.html → a.html: templates include each other in a cycle",
    ],
    [
      "imports in a cycle of three, through a folder",
      { "a.html": '{% import "m/b.html" as b %}', "m/b.html": '{% from "m/c.html" import x %}', "m/c.html": '{% extends "a.html" %}' },
      "templates/a.html:1: a.html → m/b.html → m/c.html → a.html: templates include each other in a cycle",
    ],
  ])("a template that %s", async (_, files, message) => {
    const found = await problems(Object.fromEntries(Object.entries(files).map(([f, text]) => [`templates/${f}`, text])));
    expect(found).toEqual([message]);
  });

  it("templates that share what they include are no cycle", async () => {
    expect(
      await problems({
        "templates/a.html": '{% extends "base.html" %}{% block b %}{% include "part.html" %}{% include "part.html" %}{% endblock %}',
        "templates/base.html": '{% import "part.html" as p %}{% block b %}{% endblock %}{% include "part.html" %}',
        "templates/part.html": "part",
      }),
    ).toEqual([]);
  });

  it("an unknown template named by render() in a route file", async () => {
    const found = await problems({
      "templates/a.html": "a",
      "functions/x.ts": 'export const onRequestGet = ({ render }) =>\n  render("b.html");',
    });
    expect(found).toEqual(['functions/x.ts:2: render("b.html"): no such template in templates/']);
  });
});
