// The lexer's pieces → the syntax tree of one template (nodes.ts). Each tag
// has its own parse function; a tag that opens a body ({% if %}, {% for %},
// {% block %}, {% macro %}) reads the nodes up to its closing tag. Errors are
// TemplateSyntaxErrors with the line of the tag at fault.
import { ExpressionParser, parseExpression, tokenize, type ExpressionContext } from "./expression.js";
import { lex, TemplateSyntaxError, type Piece } from "./lexer.js";
import type { Expr, Node, NodeOf } from "./nodes.js";

type Tag = Extract<Piece, { kind: "tag" }> & { name: string; rest: string };

/** The construct being read: the tag that opened it and the tags that may end (or continue) it. */
interface Frame {
  tag: string;
  line: number;
  ends: readonly string[];
}

const TOP: Frame = { tag: "", line: 0, ends: [] };
/** Closing tags: met where they close nothing, they are errors of their own, not unknown tags. */
const CLOSERS = new Set(["endif", "endfor", "endblock", "endmacro"]);
const NAME = /^[A-Za-z_]\w*$/;

export function parseTemplate(text: string, filters: ReadonlySet<string>, tests: ReadonlySet<string>): Node[] {
  const parser = new Parser(lex(text), filters, tests);
  return parser.body(TOP).nodes;
}

class Parser {
  private at = 0;
  private depth = 0;
  private extended = false;
  private readonly blockNames = new Set<string>();

  constructor(
    private readonly pieces: Piece[],
    private readonly filters: ReadonlySet<string>,
    private readonly tests: ReadonlySet<string>,
  ) {}

  /** Nodes up to one of `frame.ends` (returned as `end`), or to the end of the template at the top level. */
  body(frame: Frame): { nodes: Node[]; end?: Tag } {
    const nodes: Node[] = [];
    for (; this.at < this.pieces.length; this.at++) {
      const piece = this.pieces[this.at];
      const last = nodes[nodes.length - 1];
      // Text that a comment or {% raw %} split is one node: one string, read by html-state.ts as the browser reads it.
      if (piece.kind === "text" && last?.type === "text") last.value += piece.value;
      else if (piece.kind === "text") nodes.push({ type: "text", value: piece.value, line: piece.line });
      else if (piece.kind === "output") nodes.push({ type: "output", value: this.expr(piece.source, piece.line), line: piece.line });
      else {
        const tag = splitTag(piece);
        if (frame.ends.includes(tag.name)) return { nodes, end: tag };
        nodes.push(this.tag(tag, frame));
      }
    }
    if (frame !== TOP) throw new TemplateSyntaxError(`{% ${frame.tag} %} is never closed`, frame.line);
    return { nodes };
  }

  private tag(tag: Tag, frame: Frame): Node {
    if (tag.name === "elif" || tag.name === "else" || CLOSERS.has(tag.name)) misplaced(tag, frame);
    const parse = TAGS[tag.name];
    if (!parse) throw new TemplateSyntaxError(`unknown tag {% ${tag.name} %}`, tag.line);
    return parse.call(this, tag);
  }

  /** The body of a tag that opens one, up to a tag in `ends`; the parser stands on that tag afterwards. */
  private nested(open: Tag, ends: readonly string[]): { nodes: Node[]; end: Tag } {
    this.at++;
    this.depth++;
    const { nodes, end } = this.body({ tag: open.name, line: open.line, ends });
    this.depth--;
    return { nodes, end: end! };
  }

  private expr(source: string, line: number): Expr {
    return parseExpression(source, this.context(line));
  }
  private context(line: number): ExpressionContext {
    return { line, filters: this.filters, tests: this.tests };
  }

  if(tag: Tag): NodeOf<"if"> {
    const node: NodeOf<"if"> = { type: "if", branches: [], line: tag.line };
    for (let branch = tag; ; ) {
      const test = this.expr(branch.rest, branch.line);
      const { nodes, end } = this.nested(tag, ["elif", "else", "endif"]);
      node.branches.push({ test, body: nodes });
      if (end.name !== "elif") {
        if (end.name === "else") node.otherwise = this.nested(tag, ["endif"]).nodes;
        return node;
      }
      branch = end;
    }
  }

  for(tag: Tag): NodeOf<"for"> {
    const m = /^([\w\s,]+?)\s+in\s+([\s\S]+)$/.exec(tag.rest);
    if (!m) throw new TemplateSyntaxError(`{% for %} needs "name in items", got "${tag.rest}"`, tag.line);
    const targets = m[1].split(",").map((t) => t.trim());
    if (targets.some((t) => !NAME.test(t))) throw new TemplateSyntaxError(`bad loop variable in "${tag.rest}"`, tag.line);
    const items = this.expr(m[2], tag.line);
    const { nodes: body, end } = this.nested(tag, ["else", "endfor"]);
    const otherwise = end.name === "else" ? this.nested(tag, ["endfor"]).nodes : undefined;
    return { type: "for", targets, items, body, otherwise, line: tag.line };
  }

  set(tag: Tag): NodeOf<"set"> {
    const m = /^([A-Za-z_]\w*)\s*=\s*([\s\S]+)$/.exec(tag.rest);
    if (!m) throw new TemplateSyntaxError(`{% set %} needs "name = value", got "${tag.rest}"`, tag.line);
    return { type: "set", name: m[1], value: this.expr(m[2], tag.line), line: tag.line };
  }

  extends(tag: Tag): NodeOf<"extends"> {
    if (this.extended) throw new TemplateSyntaxError("a template extends one other template", tag.line);
    if (this.depth) throw new TemplateSyntaxError("{% extends %} must be at the top level", tag.line);
    this.extended = true;
    return { type: "extends", template: templateName(tag.rest, tag.line), line: tag.line };
  }

  include(tag: Tag): NodeOf<"include"> {
    return { type: "include", template: templateName(tag.rest, tag.line), line: tag.line };
  }

  import(tag: Tag): NodeOf<"import"> {
    const m = /^([\s\S]+?)\s+as\s+([A-Za-z_]\w*)$/.exec(tag.rest);
    if (!m) throw new TemplateSyntaxError(`{% import %} needs '"file" as name', got "${tag.rest}"`, tag.line);
    return { type: "import", template: templateName(m[1], tag.line), alias: m[2], line: tag.line };
  }

  from(tag: Tag): NodeOf<"from"> {
    const m = /^([\s\S]+?)\s+import\s+([\s\S]+)$/.exec(tag.rest);
    if (!m) throw new TemplateSyntaxError(`{% from %} needs '"file" import a, b'`, tag.line);
    const template = templateName(m[1], tag.line);
    const names = m[2].split(",").map((part) => {
      const n = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
      if (!n) throw new TemplateSyntaxError(`bad name "${part.trim()}" in {% from %}`, tag.line);
      return { name: n[1], alias: n[2] ?? n[1] };
    });
    return { type: "from", template, names, line: tag.line };
  }

  block(tag: Tag): NodeOf<"block"> {
    const name = tag.rest.trim();
    if (!NAME.test(name)) throw new TemplateSyntaxError(`bad block name "${tag.rest}"`, tag.line);
    if (this.blockNames.has(name)) throw new TemplateSyntaxError(`block "${name}" is defined twice`, tag.line);
    this.blockNames.add(name);
    const { nodes, end } = this.nested(tag, ["endblock"]);
    const closes = end.rest.trim();
    if (closes && closes !== name) throw new TemplateSyntaxError(`{% endblock ${closes} %} closes block "${name}"`, end.line);
    return { type: "block", name, body: nodes, line: tag.line };
  }

  macro(tag: Tag): NodeOf<"macro"> {
    const m = /^([A-Za-z_]\w*)\s*(\([\s\S]*\))$/.exec(tag.rest);
    if (!m) throw new TemplateSyntaxError(`{% macro %} needs "name(params)", got "${tag.rest}"`, tag.line);
    const params = this.macroParams(m[2], tag.line);
    return { type: "macro", name: m[1], params, body: this.nested(tag, ["endmacro"]).nodes, line: tag.line };
  }

  /** (a, b=1): a default is an expression, evaluated at each call. */
  private macroParams(source: string, line: number): NodeOf<"macro">["params"] {
    const parser = new ExpressionParser(tokenize(source, line), this.context(line), source);
    parser.expectOp("(");
    const params: NodeOf<"macro">["params"] = [];
    while (!parser.isOp(")")) {
      const name = parser.expectName();
      params.push(parser.isOp("=") ? (parser.next(), { name, fallback: parser.parse() }) : { name });
      if (!parser.isOp(",")) break;
      parser.next();
    }
    parser.expectOp(")");
    parser.expectEnd();
    return params;
  }
}

type TagParser = (this: Parser, tag: Tag) => Node;

/** Tag name → its parse function. */
const TAGS: Record<string, TagParser | undefined> = Object.assign(Object.create(null), {
  if: Parser.prototype.if,
  for: Parser.prototype.for,
  set: Parser.prototype.set,
  extends: Parser.prototype.extends,
  include: Parser.prototype.include,
  import: Parser.prototype.import,
  from: Parser.prototype.from,
  block: Parser.prototype.block,
  macro: Parser.prototype.macro,
});

function splitTag(piece: Extract<Piece, { kind: "tag" }>): Tag {
  const [, name, rest = ""] = /^(\w+)\s*([\s\S]*)$/.exec(piece.source) ?? [];
  if (!name) throw new TemplateSyntaxError(`"{% ${piece.source} %}" is not a tag`, piece.line);
  return { ...piece, name, rest };
}

/** An {% elif %}, {% else %} or closing tag where the construct being read does not take it. */
function misplaced(tag: Tag, frame: Frame): never {
  const { name, line } = tag;
  const open = frame.tag ? ` (line ${frame.line})` : "";
  if (name === "elif") {
    throw new TemplateSyntaxError(frame.tag === "if" ? "{% elif %} after {% else %}" : "{% elif %} outside {% if %}", line);
  }
  if (name === "else") {
    const message = frame.tag === "if" || frame.tag === "for" ? "{% else %} after {% else %}" : "{% else %} outside {% if %} or {% for %}";
    throw new TemplateSyntaxError(message, line);
  }
  throw new TemplateSyntaxError(frame.tag ? `{% ${name} %} closes {% ${frame.tag} %}${open}` : `{% ${name} %} closes nothing`, line);
}

/** "base.html" or 'base.html': names are static, so the build can check them and resolve extends and includes. */
function templateName(source: string, line: number): string {
  const m = /^("([^"]*)"|'([^']*)')$/.exec(source.trim());
  if (!m) throw new TemplateSyntaxError(`a template name must be a string literal, as in "base.html"`, line);
  return m[2] ?? m[3];
}
