// The template compiler called directly, in-process: the syntax tree the
// parser builds, the decisions the code generator takes on it, the errors,
// and the generated functions run with the real runtime in Node (the runtime
// uses Web APIs only). test/templates.test.ts renders inside workerd.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { EventContext } from "../../runtime/types.js";
import { filters, rt, templateSupport, tests, type Templates } from "../../runtime/template.js";
import { rs, streamed } from "../../runtime/template-stream.js";
import { compileTemplate } from "./compile.js";
import { compileTemplates } from "./index.js";
import { TemplateSyntaxError } from "./lexer.js";
import { parseTemplate } from "./parser.js";

const FILTERS = new Set(Object.keys(filters));
const TESTS = new Set(Object.keys(tests));
const parse = (text: string) => parseTemplate(text, FILTERS, TESTS);
const generated = (text: string) => compileTemplate("t.html", text, FILTERS, TESTS).source;
const name = (n: string) => ({ type: "name", name: n });

function load(files: Record<string, string>, stream = false): Templates {
  const source = `{\n${Object.entries(files).map(([file, text]) => compileTemplate(file, text, FILTERS, TESTS, stream).source).join("\n")}\n}`;
  // Only this test evaluates generated code; the Worker imports it as a module (Workers forbid eval).
  return new Function("rt", "rs", `return ${source};`)(rt, rs);
}

/** Renders with render, and again with renderStream, which must give the same text: every case below runs both ways. */
async function render(files: Record<string, string>, template: string, data: Record<string, unknown> = {}, streamToo = true): Promise<string> {
  const context = { request: new Request("http://localhost/") } as EventContext;
  const text = await (await templateSupport(load(files), []).render(context, template, data)).text();
  if (!streamToo) return text;
  const piecewise = await (await templateSupport(load(files, true), [], streamed).renderStream!(context, template, data)).text();
  expect(piecewise).toBe(text);
  return text;
}

describe("the syntax tree", () => {
  it("reads text, output with filters, and if / elif / else", () => {
    expect(parse("a{{ x | upper }}{% if y %}b{% elif not z %}c{% else %}d{% endif %}")).toEqual([
      { type: "text", value: "a", line: 1 },
      { type: "output", value: { type: "filter", value: name("x"), name: "upper", args: [] }, line: 1 },
      {
        type: "if",
        branches: [
          { test: name("y"), body: [{ type: "text", value: "b", line: 1 }] },
          { test: { type: "not", operand: name("z") }, body: [{ type: "text", value: "c", line: 1 }] },
        ],
        otherwise: [{ type: "text", value: "d", line: 1 }],
        line: 1,
      },
    ]);
  });

  it("reads for / else with two targets, set, and the lines of each tag", () => {
    expect(parse("{% for k, v in d.items() %}\n{% set n = k ~ v %}{% else %}none{% endfor %}")).toEqual([
      {
        type: "for",
        targets: ["k", "v"],
        items: { type: "method", object: name("d"), key: "items", args: { positional: [], named: [] } },
        body: [
          { type: "text", value: "\n", line: 1 },
          { type: "set", name: "n", value: { type: "binary", op: "~", left: name("k"), right: name("v") }, line: 2 },
        ],
        otherwise: [{ type: "text", value: "none", line: 2 }],
        line: 1,
      },
    ]);
  });

  it("reads extends, blocks, macros with defaults, import and from", () => {
    const tree = parse(
      `{% extends "base.html" %}{% import "m.html" as m %}{% from "m.html" import a as b, c %}` +
        `{% macro f(x, y="d") %}{{ x }}{% endmacro %}{% block main %}{% include "p.html" %}{% endblock %}`,
    );
    expect(tree).toEqual([
      { type: "extends", template: "base.html", line: 1 },
      { type: "import", template: "m.html", alias: "m", line: 1 },
      { type: "from", template: "m.html", names: [{ name: "a", alias: "b" }, { name: "c", alias: "c" }], line: 1 },
      {
        type: "macro",
        name: "f",
        params: [{ name: "x" }, { name: "y", fallback: { type: "literal", value: "d" } }],
        body: [{ type: "output", value: name("x"), line: 1 }],
        line: 1,
      },
      { type: "block", name: "main", body: [{ type: "include", template: "p.html", line: 1 }], line: 1 },
    ]);
  });

  it("leaves comments, raw and whitespace control to the lexer: one text node", () => {
    expect(parse("a {# note #} b {% raw %}{{ x }}{% endraw %}  {%- if 1 -%}  c  {%- endif %}")).toEqual([
      { type: "text", value: "a  b {{ x }}", line: 1 },
      { type: "if", branches: [{ test: { type: "literal", value: 1 }, body: [{ type: "text", value: "c", line: 1 }] }], line: 1 },
    ]);
  });
});

describe("decisions taken on the tree", () => {
  it("makes `loop` only for a loop whose body reads it", () => {
    expect(generated("{% for x in xs %}{{ loop.index }}{% endfor %}")).toContain("const loop1 = rt.loop(i1, items1);");
    expect(generated("{% for x in xs %}{{ loop.index }}{% include 'a.html' %}{% endfor %}")).toContain("c.loop = rt.loop(i1, items1);");
    expect(generated("{% for x in xs %}{{ x }}{% endfor %}")).not.toContain("rt.loop(");
    // A block is a function of its own: as in Jinja, it does not see the loop.
    expect(generated("{% for x in xs %}{% block b %}{{ loop.index }}{% endblock %}{% endfor %}")).not.toContain("rt.loop(");
    // A write is no read, and the {% else %} part runs outside the loop.
    expect(generated("{% for x in xs %}{% set loop = x %}{% else %}{{ loop }}{% endfor %}")).not.toContain("rt.loop(");
  });

  it("keeps a loop's variables in locals when its body only reads names, else in a scope of the loop's own", () => {
    const only = generated("{% for k, v in d %}{% if v %}{{ k }}{% endif %}{% endfor %}");
    expect(only).toContain("const t1_0 = rt.get(items1[i1], 0);");
    expect(only).toContain("rt.o(t1_0)");
    expect(only).not.toContain("Object.create");
    for (const inside of ["{% set y = x %}", "{% include 'a.html' %}", "{% import 'a.html' as a %}", "{% from 'a.html' import a %}", "{% block b %}{% endblock %}", "{% macro m() %}{% endmacro %}"]) {
      const scoped = generated(`{% for x in xs %}{% if x %}${inside}{% endif %}{{ x }}{% endfor %}`);
      expect(scoped).toContain('c["x"] = items1[i1];');
      expect(scoped).toContain('rt.o(c["x"])');
    }
  });

  it("places a child template's blocks once, in its parent, running them beforehand only for what they write to the scope", () => {
    expect(generated('{% extends "b.html" %}{% block a %}{{ x }}{% endblock %}')).toContain('rt.dropped(r, "a", c);');
    expect(generated('{% extends "b.html" %}{% block a %}{{ x }}{% endblock %}')).not.toContain("writes:");
    expect(generated('{% extends "b.html" %}{% block a %}{% if x %}{% set y = 1 %}{% endif %}{% endblock %}{% block b %}{{ super() }}{% endblock %}{% block c %}{% block d %}{% endblock %}{% endblock %}')).toContain(
      'writes: ["a","b","c"],',
    );
    // Not in a template that extends nothing, nor in a macro's body, whose output is its caller's.
    expect(generated("{% block a %}{% endblock %}")).toContain('o += rt.block(r, "a", c);');
    expect(generated('{% extends "b.html" %}{% macro m() %}{% block a %}{% endblock %}{% endmacro %}')).toContain('o += rt.block(r, "a", c);');
  });

  it("marks a block that calls super(), and not the block around it", () => {
    const source = generated("{% block outer %}{% block inner %}{{ super() }}{% endblock %}{% endblock %}");
    expect(source).toContain('"inner": rt.sup(function (c, r) {');
    expect(source).toContain('"outer": function (c, r) {');
    expect(generated("{% block b %}{% set super = 1 %}{% endblock %}")).not.toContain("rt.sup(");
  });

  it("escapes quotes of safe output in quoted attribute values only, reading the HTML in document order", () => {
    const source = generated(`<a title="{{ x | tojson }}" data-y='{% if y %}{{ y }}{% endif %}'>{{ z | tojson }}</a><script>f("{{ w }}")</script>`);
    expect(source).toContain("rt.a(rt.filters.tojson(c[\"x\"]))");
    expect(source).toContain('rt.a(c["y"])');
    expect(source).toContain('rt.o(rt.filters.tojson(c["z"]))');
    expect(source).toContain('rt.o(c["w"])');
  });

  it("lists the templates a template names, in document order, and whether it reads flashes", () => {
    const t = compileTemplate("t.html", 'flashes\n{% include "a.html" %}{% block b %}\n{% import "m.html" as m %}{% endblock %}{% extends "base.html" %}', FILTERS, TESTS);
    expect(t.references).toEqual([
      { name: "a.html", line: 2, kind: "includes" },
      { name: "m.html", line: 3, kind: "imports" },
      { name: "base.html", line: 3, kind: "extends" },
    ]);
    expect(t.readsFlashes).toBe(false); // the word in text is no read
    expect(compileTemplate("f.html", "{% if flashes %}!{% endif %}", FILTERS, TESTS).readsFlashes).toBe(true);
  });

  it("gives the flash messages to templates that read them, themselves or through what they extend, include or import", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-tpl-"));
    const files: Record<string, string> = {
      "shows.html": "{{ flashes }}",
      "extends.html": '{% extends "shows.html" %}',
      "includes.html": '{% include "shows.html" %}',
      "imports.html": '{% import "macro.html" as m %}',
      "macro.html": "{% macro m() %}{{ flashes }}{% endmacro %}",
      "plain.html": "no flashes here",
      ".hidden/x.html": "{{ flashes }}",
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const { set } = compileTemplates(dir);
    expect(set?.names).toEqual(["extends.html", "imports.html", "includes.html", "macro.html", "plain.html", "shows.html"]);
    expect(set?.flashes).toEqual(["extends.html", "imports.html", "includes.html", "macro.html", "shows.html"]);
  });
});

describe("the generated code", () => {
  it("is indented, one statement a line, a loop's variables in locals", () => {
    expect(generated("<ul>{% for x in xs %}<li>{{ loop.index }} {{ x.name }}</li>{% endfor %}</ul>")).toBe(
      [
        '  "t.html": {',
        "    parent: null,",
        "    blocks: {},",
        "    body: function (c, r) {",
        '      let o = "";',
        '      o += "<ul>";',
        "      {",
        '        const items1 = rt.list(c["xs"]);',
        "        if (items1.length) {",
        "          for (let i1 = 0; i1 < items1.length; i1++) {",
        "            const loop1 = rt.loop(i1, items1);",
        "            const t1_0 = items1[i1];",
        '            o += "<li>" + rt.o((loop1)?.["index"]) + " " + rt.o((t1_0)?.["name"]) + "</li>";',
        "          }",
        "        }",
        "      }",
        '      o += "</ul>";',
        "      return o;",
        "    },",
        "  },",
      ].join("\n"),
    );
  });

  it("renders loops, loop.cycle, the else part, and keeps loop variables and sets inside the loop", async () => {
    const files = { "t.html": "{% set s = 'out' %}{% for x in xs %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{{ x }}{% set s = x %}{% else %}none{% endfor %}|{{ x }}|{{ s }}" };
    expect(await render(files, "t.html", { xs: [1, 2, 3] })).toBe("1a12b23a3||out");
    expect(await render(files, "t.html", { xs: [] })).toBe("none||out");
  });

  it("renders loops with their variables in locals and in scopes alike: nested, shadowed, seen by includes", async () => {
    const files = {
      "t.html": "{% for k, v in d.items() %}{% for loop in v %}{{ loop }}{{ k }}{% else %}{{ loop.index }}:{% endfor %}|{% endfor %}" +
        "{% for x in xs %}{% for x in [x, 0] %}{{ x }}{% endfor %}{% include 'p.html' %}{% endfor %}{{ x }}{% for a, a in [[1, 2]] %}{{ a }}{% endfor %}",
      "p.html": "({{ x }}{{ loop.index }})",
    };
    expect(await render(files, "t.html", { d: { a: [1, 2], b: [] }, xs: [7, 8], x: "out" })).toBe("1a2a|2:|70(7)80(8)out2");
  });

  it("runs a child template's block once, and its {% set %}s before the parent renders", async () => {
    let calls = 0;
    const files = {
      "base.html": "{{ title }}<{% block body %}{% endblock %}>{% block side %}S{% endblock %}",
      "page.html": "{% extends 'base.html' %}{% block body %}{{ count() }}{% endblock %}{% block side %}{% set title = 'T' %}{% endblock %}",
    };
    expect(await render(files, "page.html", { count: () => ++calls, title: "-" }, false)).toBe("T<1>");
    expect(calls).toBe(1);
    const context = { request: new Request("http://localhost/") } as EventContext;
    const piecewise = await templateSupport(load(files, true), [], streamed).renderStream!(context, "page.html", { count: () => ++calls, title: "-" });
    expect(await piecewise.text()).toBe("T<2>");
    expect(calls).toBe(2);
  });

  it("renders three levels of layout with super(), macros with defaults, imports and includes", async () => {
    const files = {
      "base.html": "<t>{% block t %}B{% endblock %}</t>{% include 'part.html' %}",
      "mid.html": "{% extends 'base.html' %}{% block t %}M{{ super() }}{% endblock %}",
      "page.html": "{% extends 'mid.html' %}{% from 'm.html' import b %}{% block t %}P{{ super() }}{{ b('x') }}{{ b('y', k='<') }}{% endblock %}",
      "m.html": '{% macro b(v, k="=") %}[{{ k }}{{ v }}]{% endmacro %}',
      "part.html": "<p>{{ who }}</p>",
    };
    expect(await render(files, "page.html", { who: "<me>" })).toBe("<t>PMB[=x][&lt;y]</t><p>&lt;me&gt;</p>");
  });

  it("keeps safe output from closing a quoted attribute, and escapes the rest", async () => {
    const files = { "t.html": `<div data-x="{{ d | tojson }}" title='{{ s }}'>{{ d | tojson }}</div>` };
    expect(await render(files, "t.html", { d: { q: `"'<` }, s: `'"` })).toBe(
      `<div data-x="{&quot;q&quot;:&quot;\\&quot;\\u0027\\u003c&quot;}" title='&#39;&quot;'>{"q":"\\"\\u0027\\u003c"}</div>`,
    );
  });
});

describe("syntax errors name the line", () => {
  it.each([
    ["{% if x %}\n{{ y }}\nnever closed", 1, "{% if %} is never closed"],
    ["a\n{% for x in %}{% endfor %}", 2, '{% for %} needs "name in items", got "x in"'],
    ["\n{% if x %}\n{% endfor %}", 3, "{% endfor %} closes {% if %} (line 2)"],
    ["{% endblock %}", 1, "{% endblock %} closes nothing"],
    ["{% for x in y %}\n{% elif z %}{% endfor %}", 2, "{% elif %} outside {% if %}"],
    ["{% if x %}{% else %}\n{% else %}{% endif %}", 2, "{% else %} after {% else %}"],
    ["{% block a %}\n{% endblock b %}", 2, '{% endblock b %} closes block "a"'],
    ["{% block a %}{% endblock %}\n{% block a %}{% endblock %}", 2, 'block "a" is defined twice'],
    ['{% if x %}\n{% extends "b.html" %}{% endif %}', 2, "{% extends %} must be at the top level"],
    ["\n\n{{ x | nosuchfilter }}", 3, 'unknown filter "nosuchfilter" in "x | nosuchfilter"'],
    ["{{ x is nosuchtest }}", 1, 'unknown test "nosuchtest" in "x is nosuchtest"'],
    ["{% include name %}", 1, 'a template name must be a string literal, as in "base.html"'],
    ["\n{% frobnicate %}", 2, "unknown tag {% frobnicate %}"],
  ])("%j", (text, line, message) => {
    let error: unknown;
    try {
      parse(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect({ line: (error as TemplateSyntaxError).line, message: (error as Error).message }).toEqual({ line, message });
  });
});

describe("renderStream", () => {
  const context = { request: new Request("http://localhost/") } as EventContext;
  const PAGE = {
    "base.html": "<html><body>{% block content %}{% endblock %}</body></html>",
    "list.html": '{% extends "base.html" %}{% block content %}<ul>{% for row in rows %}<li>{{ row.name }}</li>{% endfor %}</ul>{% endblock %}',
  };

  it("sends the page's head before any row, then the rows in pieces of about 32 KB, the first before the last is rendered", async () => {
    let rendered = 0;
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      get name() {
        rendered++;
        return `row ${i}`;
      },
    }));
    const response = await templateSupport(load(PAGE, true), [], streamed).renderStream!(context, "list.html", { rows });
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const piece = async () => decoder.decode((await reader.read()).value);
    expect(await piece()).toBe("<html><body>");
    expect(rendered).toBe(0);
    const rowsBegin = await piece();
    expect(rowsBegin.startsWith("<ul><li>row 0</li>")).toBe(true);
    expect(rendered).toBeLessThan(rows.length / 2);
    const pieces = ["<html><body>", rowsBegin];
    for (let r = await reader.read(); !r.done; r = await reader.read()) pieces.push(decoder.decode(r.value));
    expect(rendered).toBe(rows.length);
    expect(pieces.length).toBeGreaterThan(5);
    // The head, the loop's pieces, what is left of the block after the loop, the layout's end.
    expect(pieces.at(-1)).toBe("</body></html>");
    expect(pieces.slice(1, -2).every((p) => p.length >= 32_768 && p.length < 32_768 + 20)).toBe(true);
    expect(pieces.join("")).toBe(`<html><body><ul>${rows.map((_, i) => `<li>row ${i}</li>`).join("")}</ul></body></html>`);
  });

  it("is a 500 when the template fails before its first piece, and ends the page early after", async () => {
    const support = templateSupport(load({ "t.html": "{% for row in rows %}{{ row.f() }}{% endfor %}" }, true), [], streamed);
    await expect(support.renderStream!(context, "t.html", { rows: [{}] })).rejects.toThrow("is not callable");
    const late = [...Array.from({ length: 8000 }, () => ({ f: () => "x".repeat(10) })), {}];
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (err: unknown) => errors.push(err);
    try {
      const response = await support.renderStream!(context, "t.html", { rows: late });
      await expect(response.text()).rejects.toThrow();
    } finally {
      console.error = log;
    }
    expect(errors).toHaveLength(1);
  });

  it("stops rendering when the client goes away", async () => {
    let rendered = 0;
    const rows = Array.from({ length: 5000 }, () => ({
      get name() {
        rendered++;
        return "a row of some length";
      },
    }));
    const response = await templateSupport(load(PAGE, true), [], streamed).renderStream!(context, "list.html", { rows });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const seen = rendered;
    await new Promise((resume) => setTimeout(resume, 20));
    expect(rendered).toBe(seen);
    expect(rendered).toBeLessThan(rows.length);
  });
});
