// Jinja expressions: tokens, then a syntax tree (nodes.ts). Unknown filters
// and tests are syntax errors here, with the expression they are in.
import type { Args, BinaryOp, Expr } from "./nodes.js";
import { TemplateSyntaxError } from "./lexer.js";

type Token = { type: "name" | "number" | "string" | "op" | "end"; value: string };

const OPS = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "<", ">", "="];

export function tokenize(source: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ type: "name", value: name[0] });
      i += name[0].length;
      continue;
    }
    const number = /^\d+(\.\d+)?/.exec(source.slice(i));
    if (number) {
      tokens.push({ type: "number", value: number[0] });
      i += number[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      let value = "";
      while (j < source.length && source[j] !== ch) {
        if (source[j] === "\\" && j + 1 < source.length) {
          const next = source[++j];
          value += next === "n" ? "\n" : next === "t" ? "\t" : next;
        } else value += source[j];
        j++;
      }
      if (j >= source.length) throw new TemplateSyntaxError(`unterminated string in "${source}"`, line);
      tokens.push({ type: "string", value });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => source.startsWith(o, i));
    if (!op) throw new TemplateSyntaxError(`unexpected "${ch}" in "${source}"`, line);
    tokens.push({ type: "op", value: op });
    i += op.length;
  }
  tokens.push({ type: "end", value: "" });
  return tokens;
}

export interface ExpressionContext {
  line: number;
  filters: ReadonlySet<string>;
  tests: ReadonlySet<string>;
}

const COMPARISONS = new Set(["==", "!=", "<", ">", "<=", ">="]);

/** Reads tokens into expression trees; `parse()` reads one expression, the caller checks what follows. */
export class ExpressionParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly ctx: ExpressionContext,
    private readonly source: string,
  ) {}

  fail(message: string): never {
    throw new TemplateSyntaxError(`${message} in "${this.source}"`, this.ctx.line);
  }
  peek(offset = 0): Token {
    return this.tokens[this.i + offset];
  }
  next(): Token {
    return this.tokens[this.i++];
  }
  isOp(value: string): boolean {
    return this.peek().type === "op" && this.peek().value === value;
  }
  isName(value: string): boolean {
    return this.peek().type === "name" && this.peek().value === value;
  }
  expectOp(value: string): void {
    if (!this.isOp(value)) this.fail(`expected "${value}"`);
    this.i++;
  }
  expectName(): string {
    const token = this.next();
    if (token.type !== "name") this.fail(`expected a name, found "${token.value}"`);
    return token.value;
  }
  atEnd(): boolean {
    return this.peek().type === "end";
  }
  expectEnd(): void {
    if (!this.atEnd()) this.fail(`unexpected "${this.peek().value}"`);
  }
  /** Consumes the name `value` when it comes next. */
  private skipName(value: string): boolean {
    if (!this.isName(value)) return false;
    this.i++;
    return true;
  }

  /** expr [if cond [else other]] */
  parse(): Expr {
    const then = this.or();
    if (!this.skipName("if")) return then;
    const test = this.or();
    return { type: "conditional", test, then, otherwise: this.skipName("else") ? this.parse() : undefined };
  }
  private or(): Expr {
    let left = this.and();
    while (this.skipName("or")) left = { type: "logical", op: "or", left, right: this.and() };
    return left;
  }
  private and(): Expr {
    let left = this.not();
    while (this.skipName("and")) left = { type: "logical", op: "and", left, right: this.not() };
    return left;
  }
  private not(): Expr {
    return this.skipName("not") ? { type: "not", operand: this.not() } : this.compare();
  }
  private compare(): Expr {
    let left = this.concat();
    for (;;) {
      const t = this.peek();
      if (t.type === "op" && COMPARISONS.has(t.value)) {
        this.i++;
        left = { type: "binary", op: t.value as BinaryOp, left, right: this.concat() };
      } else if (this.skipName("in")) {
        left = { type: "contains", item: left, container: this.concat(), negated: false };
      } else if (this.isName("not") && this.peek(1).type === "name" && this.peek(1).value === "in") {
        this.i += 2;
        left = { type: "contains", item: left, container: this.concat(), negated: true };
      } else if (this.skipName("is")) {
        left = this.test(left);
      } else {
        return left;
      }
    }
  }
  /** value is [not] name[(args)] */
  private test(value: Expr): Expr {
    const negated = this.skipName("not");
    const name = this.expectName();
    if (!this.ctx.tests.has(name)) this.fail(`unknown test "${name}"`);
    // `is divisibleby(3)`, or `is divisibleby 3` as Jinja also allows
    const args = this.isOp("(") ? this.args().positional : ["divisibleby", "sameas"].includes(name) ? [this.concat()] : [];
    return { type: "test", value, name, args, negated };
  }
  private concat(): Expr {
    let left = this.additive();
    while (this.isOp("~")) {
      this.i++;
      left = { type: "binary", op: "~", left, right: this.additive() };
    }
    return left;
  }
  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next().value as BinaryOp;
      left = { type: "binary", op, left, right: this.multiplicative() };
    }
    return left;
  }
  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const op = this.next().value as BinaryOp;
      left = { type: "binary", op, left, right: this.unary() };
    }
    return left;
  }
  private unary(): Expr {
    if (this.isOp("-") || this.isOp("+")) {
      const op = this.next().value as "-" | "+";
      return { type: "unary", op, operand: this.unary() };
    }
    return this.power();
  }
  private power(): Expr {
    const left = this.filtered();
    if (!this.isOp("**")) return left;
    this.i++;
    return { type: "binary", op: "**", left, right: this.unary() };
  }
  private filtered(): Expr {
    let value = this.postfix(this.primary());
    while (this.isOp("|")) {
      this.i++;
      const name = this.expectName();
      if (!this.ctx.filters.has(name)) this.fail(`unknown filter "${name}"`);
      value = { type: "filter", value, name, args: this.isOp("(") ? this.args().positional : [] };
    }
    return value;
  }
  private postfix(value: Expr): Expr {
    for (;;) {
      if (this.isOp(".")) {
        this.i++;
        const token = this.next();
        if (token.type !== "name" && token.type !== "number") this.fail(`expected an attribute after "."`);
        const key = token.type === "number" ? Number(token.value) : token.value;
        value = this.isOp("(") ? { type: "method", object: value, key, args: this.args() } : { type: "attribute", object: value, key };
      } else if (this.isOp("[")) {
        this.i++;
        value = { type: "item", object: value, key: this.parse() };
        this.expectOp("]");
      } else if (this.isOp("(")) {
        value = { type: "call", callee: value, args: this.args() };
      } else {
        return value;
      }
    }
  }
  /** (a, b, key=value) */
  args(): Args {
    this.expectOp("(");
    const args: Args = { positional: [], named: [] };
    while (!this.isOp(")")) {
      if (this.peek().type === "name" && this.peek(1).type === "op" && this.peek(1).value === "=") {
        const key = this.expectName();
        this.i++;
        args.named.push([key, this.parse()]);
      } else {
        if (args.named.length) this.fail("a positional argument after a named one");
        args.positional.push(this.parse());
      }
      if (!this.isOp(",")) break;
      this.i++;
    }
    this.expectOp(")");
    return args;
  }
  private primary(): Expr {
    const t = this.next();
    if (t.type === "number") return { type: "literal", value: Number(t.value) };
    if (t.type === "string") {
      let value = t.value;
      // Adjacent strings join, as in Python.
      while (this.peek().type === "string") value += this.next().value;
      return { type: "literal", value };
    }
    if (t.type === "name") return KEYWORDS.has(t.value) ? { type: "literal", value: KEYWORDS.get(t.value)! } : { type: "name", name: t.value };
    if (t.type === "op" && t.value === "(") return this.parenthesized();
    if (t.type === "op" && t.value === "[") return { type: "list", items: this.sequence("]") };
    if (t.type === "op" && t.value === "{") return this.dict();
    return this.fail(t.type === "end" ? "the expression ends too soon" : `unexpected "${t.value}"`);
  }
  /** (x), or a tuple (a, b) — a list here */
  private parenthesized(): Expr {
    const first = this.parse();
    if (!this.isOp(",")) {
      this.expectOp(")");
      return first;
    }
    const items = [first];
    while (this.isOp(",")) {
      this.i++;
      if (this.isOp(")")) break;
      items.push(this.parse());
    }
    this.expectOp(")");
    return { type: "list", items };
  }
  /** a, b, c] — after the opening bracket */
  private sequence(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      items.push(this.parse());
      if (!this.isOp(",")) break;
      this.i++;
    }
    this.expectOp(close);
    return items;
  }
  private dict(): Expr {
    const entries: [Expr, Expr][] = [];
    while (!this.isOp("}")) {
      const key = this.parse();
      this.expectOp(":");
      entries.push([key, this.parse()]);
      if (!this.isOp(",")) break;
      this.i++;
    }
    this.expectOp("}");
    return { type: "dict", entries };
  }
}

const KEYWORDS = new Map<string, boolean | null>([
  ["true", true],
  ["True", true],
  ["false", false],
  ["False", false],
  ["none", null],
  ["None", null],
]);

export function parseExpression(source: string, ctx: ExpressionContext): Expr {
  const parser = new ExpressionParser(tokenize(source, ctx.line), ctx, source);
  const expr = parser.parse();
  parser.expectEnd();
  return expr;
}
