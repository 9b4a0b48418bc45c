// Compiles one template into JavaScript: `{ parent, blocks, body }`, plain
// functions that append to a string. Nothing here runs in the Worker: the
// Worker gets the functions, never a compiler (Workers forbid eval).
import { compileExpression, ExpressionParser, tokenize, type ExpressionContext } from "./expression.js";
import { inQuotedAttribute, scanHtml, START } from "./html-state.js";
import { lex, TemplateSyntaxError, type Piece } from "./lexer.js";

export interface CompiledTemplate {
  name: string;
  /** `{ parent: ..., blocks: {...}, body(c, r) {...} }` */
  source: string;
  /** Templates named by extends / include / import, with the line that names them. */
  references: Reference[];
}

export interface Reference {
  name: string;
  line: number;
  kind: "extends" | "includes" | "imports";
}

interface Frame {
  tag: string;
  line: number;
  /** for a `for`: whether its {% else %} was seen, the id of its variables, where its code starts */
  hasElse?: boolean;
  id?: string;
  start?: number;
  /** for a `block` or `macro`: the code outside it, to go back to */
  outer?: string[];
  blockName?: string;
  macro?: { name: string; params: string };
}

export function compileTemplate(name: string, text: string, filters: ReadonlySet<string>, tests: ReadonlySet<string>): CompiledTemplate {
  const pieces = lex(text);
  const references: Reference[] = [];
  const blocks: string[] = [];
  let parent: string | undefined;
  let code: string[] = [];
  const stack: Frame[] = [];
  let uid = 0;
  const ctx = (line: number): ExpressionContext => ({ line, filters, tests });
  const expr = (source: string, line: number) => compileExpression(source, ctx(line));
  const staticName = (source: string, line: number, kind: Reference["kind"]): string => {
    const m = /^("([^"]*)"|'([^']*)')$/.exec(source.trim());
    if (!m) throw new TemplateSyntaxError(`a template name must be a string literal, as in "base.html"`, line);
    const target = m[2] ?? m[3];
    references.push({ name: target, line, kind });
    return target;
  };

  // Text and {{ output }} next to each other become one `o += a + b + ...`:
  // one append per run instead of one per piece.
  let run: string[] = [];
  const flush = () => {
    if (run.length) code.push(`o += ${run.join(" + ")};`);
    run = [];
  };
  let html = START;
  for (const piece of pieces) {
    if (piece.kind === "text") {
      html = scanHtml(piece.value, html);
      run.push(JSON.stringify(piece.value));
      continue;
    }
    if (piece.kind === "output") {
      run.push(`rt.${inQuotedAttribute(html) ? "a" : "o"}(${expr(piece.source, piece.line)})`);
      continue;
    }
    flush();
    compileTag(piece);
  }
  flush();
  if (stack.length) {
    const open = stack[stack.length - 1];
    throw new TemplateSyntaxError(`{% ${open.tag} %} is never closed`, open.line);
  }

  function compileTag(piece: Extract<Piece, { kind: "tag" }>): void {
    const { line } = piece;
    const [, tag, rest = ""] = /^(\w+)\s*([\s\S]*)$/.exec(piece.source) ?? [];
    if (!tag) throw new TemplateSyntaxError(`"{% ${piece.source} %}" is not a tag`, line);
    const top = stack[stack.length - 1];
    const close = (expected: string) => {
      if (!top || top.tag !== expected) {
        throw new TemplateSyntaxError(top ? `{% ${tag} %} closes {% ${top.tag} %} (line ${top.line})` : `{% ${tag} %} closes nothing`, line);
      }
      return stack.pop()!;
    };
    switch (tag) {
      case "if":
        code.push(`if (rt.truthy(${expr(rest, line)})) {`);
        stack.push({ tag: "if", line });
        return;
      case "elif":
        if (top?.tag !== "if") throw new TemplateSyntaxError("{% elif %} outside {% if %}", line);
        code.push(`} else if (rt.truthy(${expr(rest, line)})) {`);
        return;
      case "else":
        if (top?.tag === "if") code.push("} else {");
        else if (top?.tag === "for" && !top.hasElse) {
          top.hasElse = true;
          code.push(`} c = outer${top.id}; } else {`);
        } else throw new TemplateSyntaxError("{% else %} outside {% if %} or {% for %}", line);
        return;
      case "endif":
        close("if");
        code.push("}");
        return;
      case "for": {
        const m = /^([\w\s,]+?)\s+in\s+([\s\S]+)$/.exec(rest);
        if (!m) throw new TemplateSyntaxError(`{% for %} needs "name in items", got "${rest}"`, line);
        const targets = m[1].split(",").map((t) => t.trim());
        if (targets.some((t) => !/^[A-Za-z_]\w*$/.test(t))) throw new TemplateSyntaxError(`bad loop variable in "${rest}"`, line);
        const n = `${line}_${uid++}`;
        const assign =
          targets.length === 1
            ? `c[${JSON.stringify(targets[0])}] = items${n}[i${n}];`
            : targets.map((t, k) => `c[${JSON.stringify(t)}] = rt.get(items${n}[i${n}], ${k});`).join(" ");
        // One scope per loop, not per pass: the loop's variables stay inside it, and a pass costs no allocation.
        code.push(
          `{ const items${n} = rt.list(${expr(m[2], line)}); const outer${n} = c; if (items${n}.length) { c = Object.create(outer${n}); for (let i${n} = 0; i${n} < items${n}.length; i${n}++) { c.loop = rt.loop(i${n}, items${n}); ${assign}`,
        );
        stack.push({ tag: "for", line, id: n, start: code.length - 1 });
        return;
      }
      case "endfor": {
        const frame = close("for");
        // `loop` is made only when the body (before any {% else %}) reads it.
        if (!code.slice(frame.start! + 1).some((l) => l.includes('c["loop"]'))) {
          code[frame.start!] = code[frame.start!].replace(/ c\.loop = rt\.loop\([^)]*\);/, "");
        }
        code.push(frame.hasElse ? "} }" : `} c = outer${frame.id}; } }`);
        return;
      }
      case "set": {
        const m = /^([A-Za-z_]\w*)\s*=\s*([\s\S]+)$/.exec(rest);
        if (!m) throw new TemplateSyntaxError(`{% set %} needs "name = value", got "${rest}"`, line);
        code.push(`c[${JSON.stringify(m[1])}] = ${expr(m[2], line)};`);
        return;
      }
      case "extends":
        if (parent) throw new TemplateSyntaxError("a template extends one other template", line);
        if (stack.length) throw new TemplateSyntaxError("{% extends %} must be at the top level", line);
        parent = staticName(rest, line, "extends");
        return;
      case "include":
        code.push(`o += rt.include(r, ${JSON.stringify(staticName(rest, line, "includes"))}, c);`);
        return;
      case "block": {
        const blockName = rest.trim();
        if (!/^[A-Za-z_]\w*$/.test(blockName)) throw new TemplateSyntaxError(`bad block name "${rest}"`, line);
        if (blocks.some((b) => b.startsWith(`${JSON.stringify(blockName)}:`))) throw new TemplateSyntaxError(`block "${blockName}" is defined twice`, line);
        code.push(`o += rt.block(r, ${JSON.stringify(blockName)}, c);`);
        stack.push({ tag: "block", line, outer: code, blockName });
        code = [];
        return;
      }
      case "endblock": {
        const frame = close("block");
        if (rest.trim() && rest.trim() !== frame.blockName) throw new TemplateSyntaxError(`{% endblock ${rest.trim()} %} closes block "${frame.blockName}"`, line);
        const part = `function (c, r) { let o = ""; ${code.join("\n")} return o; }`;
        const usesSuper = code.some((l) => l.includes('c["super"]'));
        blocks.push(`${JSON.stringify(frame.blockName)}: ${usesSuper ? `rt.sup(${part})` : part}`);
        code = frame.outer!;
        return;
      }
      case "macro": {
        const m = /^([A-Za-z_]\w*)\s*(\([\s\S]*\))$/.exec(rest);
        if (!m) throw new TemplateSyntaxError(`{% macro %} needs "name(params)", got "${rest}"`, line);
        const params = macroParams(m[2], line);
        stack.push({ tag: "macro", line, outer: code, macro: { name: m[1], params } });
        code = [];
        return;
      }
      case "endmacro": {
        const frame = close("macro");
        const { name: macroName, params } = frame.macro!;
        const body = `rt.macro(c, r, function (c, r) { let o = ""; ${code.join("\n")} return o; }, ${params}, ${JSON.stringify(macroName)})`;
        code = frame.outer!;
        code.push(`c[${JSON.stringify(macroName)}] = ${body};`);
        return;
      }
      case "import": {
        const m = /^([\s\S]+?)\s+as\s+([A-Za-z_]\w*)$/.exec(rest);
        if (!m) throw new TemplateSyntaxError(`{% import %} needs '"file" as name', got "${rest}"`, line);
        code.push(`c[${JSON.stringify(m[2])}] = rt.imports(r, ${JSON.stringify(staticName(m[1], line, "imports"))});`);
        return;
      }
      case "from": {
        const m = /^([\s\S]+?)\s+import\s+([\s\S]+)$/.exec(rest);
        if (!m) throw new TemplateSyntaxError(`{% from %} needs '"file" import a, b'`, line);
        const file = JSON.stringify(staticName(m[1], line, "imports"));
        const names = m[2].split(",").map((part) => {
          const n = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
          if (!n) throw new TemplateSyntaxError(`bad name "${part.trim()}" in {% from %}`, line);
          return `c[${JSON.stringify(n[2] ?? n[1])}] = rt.get(ns, ${JSON.stringify(n[1])});`;
        });
        code.push(`{ const ns = rt.imports(r, ${file}); ${names.join(" ")} }`);
        return;
      }
      default:
        throw new TemplateSyntaxError(`unknown tag {% ${tag} %}`, line);
    }
  }

  /** (a, b=1) → [["a"], ["b", () => 1]] as JavaScript; defaults are evaluated at each call, in the macro's scope. */
  function macroParams(source: string, line: number): string {
    const parser = new ExpressionParser(tokenize(source, line), ctx(line), source);
    parser.expectOp("(");
    const params: string[] = [];
    while (!parser.isOp(")")) {
      const param = parser.expectName();
      if (parser.isOp("=")) {
        parser.next();
        params.push(`[${JSON.stringify(param)}, (c) => ${parser.parse()}]`);
      } else {
        params.push(`[${JSON.stringify(param)}]`);
      }
      if (!parser.isOp(",")) break;
      parser.next();
    }
    parser.expectOp(")");
    parser.expectEnd();
    return `[${params.join(", ")}]`;
  }

  // A child template's output outside its blocks is dropped, as in Jinja; its
  // top-level {% set %}, {% import %} and macros still run before the parent.
  const body = `function (c, r) { let o = ""; ${code.join("\n")} return ${parent ? `rt.extend(r, ${JSON.stringify(parent)}, c)` : "o"}; }`;
  const source = `{ parent: ${JSON.stringify(parent ?? null)}, blocks: { ${blocks.join(",\n")} }, body: ${body} }`;
  return { name, source, references };
}
