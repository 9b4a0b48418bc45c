// Jinja expressions, compiled to JavaScript source. The output calls the
// template runtime (`rt`, src/runtime/template.ts) for what JavaScript does
// differently: attribute access on undefined, Python truthiness, `in`,
// filters and tests. Names are looked up in the scope object `c`.
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

/** Parses tokens into JavaScript; `parse()` reads one expression, the caller checks what follows. */
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

  /** expr [if cond [else other]] */
  parse(): string {
    const value = this.or();
    if (this.isName("if")) {
      this.i++;
      const cond = this.or();
      let other = "undefined";
      if (this.isName("else")) {
        this.i++;
        other = this.parse();
      }
      return `(rt.truthy(${cond}) ? ${value} : ${other})`;
    }
    return value;
  }
  private or(): string {
    let left = this.and();
    while (this.isName("or")) {
      this.i++;
      left = `rt.or(${left}, () => ${this.and()})`;
    }
    return left;
  }
  private and(): string {
    let left = this.not();
    while (this.isName("and")) {
      this.i++;
      left = `rt.and(${left}, () => ${this.not()})`;
    }
    return left;
  }
  private not(): string {
    if (this.isName("not")) {
      this.i++;
      return `!rt.truthy(${this.not()})`;
    }
    return this.compare();
  }
  private compare(): string {
    let left = this.concat();
    for (;;) {
      const t = this.peek();
      if (t.type === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(t.value)) {
        this.i++;
        const op = t.value === "==" ? "===" : t.value === "!=" ? "!==" : t.value;
        left = `(${left} ${op} ${this.concat()})`;
      } else if (this.isName("in")) {
        this.i++;
        left = `rt.contains(${this.concat()}, ${left})`;
      } else if (this.isName("not") && this.peek(1).type === "name" && this.peek(1).value === "in") {
        this.i += 2;
        left = `!rt.contains(${this.concat()}, ${left})`;
      } else if (this.isName("is")) {
        this.i++;
        let negate = false;
        if (this.isName("not")) {
          this.i++;
          negate = true;
        }
        const test = this.expectName();
        if (!this.ctx.tests.has(test)) this.fail(`unknown test "${test}"`);
        // `is divisibleby(3)`, or `is divisibleby 3` as Jinja also allows
        const args = this.isOp("(") ? this.args().positional : ["divisibleby", "sameas"].includes(test) ? [this.concat()] : [];
        const call = `rt.tests.${test}(${[left, ...args].join(", ")})`;
        left = negate ? `!${call}` : call;
      } else {
        return left;
      }
    }
  }
  private concat(): string {
    let left = this.additive();
    while (this.isOp("~")) {
      this.i++;
      left = `(rt.str(${left}) + rt.str(${this.additive()}))`;
    }
    return left;
  }
  private additive(): string {
    let left = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next().value;
      left = `(${left} ${op} ${this.multiplicative()})`;
    }
    return left;
  }
  private multiplicative(): string {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const op = this.next().value;
      const right = this.unary();
      left = op === "//" ? `Math.floor(${left} / ${right})` : `(${left} ${op} ${right})`;
    }
    return left;
  }
  private unary(): string {
    if (this.isOp("-")) {
      this.i++;
      return `(-${this.unary()})`;
    }
    if (this.isOp("+")) {
      this.i++;
      return `(+${this.unary()})`;
    }
    return this.power();
  }
  private power(): string {
    const base = this.filtered();
    if (this.isOp("**")) {
      this.i++;
      return `(${base} ** ${this.unary()})`;
    }
    return base;
  }
  private filtered(): string {
    let value = this.postfix(this.primary());
    while (this.isOp("|")) {
      this.i++;
      const name = this.expectName();
      if (!this.ctx.filters.has(name)) this.fail(`unknown filter "${name}"`);
      const args = this.isOp("(") ? this.args().positional : [];
      value = `rt.filters.${name}(${[value, ...args].join(", ")})`;
    }
    return value;
  }
  private postfix(value: string): string {
    for (;;) {
      if (this.isOp(".")) {
        this.i++;
        const token = this.next();
        if (token.type !== "name" && token.type !== "number") this.fail(`expected an attribute after "."`);
        const key = token.type === "number" ? token.value : JSON.stringify(token.value);
        if (this.isOp("(")) {
          // a method call: bound to its object, and dict.items() / keys() / values() on plain objects
          const { positional, named } = this.args();
          value = `rt.method(${value}, ${key}, [${positional.join(", ")}], {${named.join(", ")}})`;
        } else if (token.value in Object.prototype) {
          // constructor, __proto__, toString...: data if it has them, never what every object inherits
          value = `rt.get(${value}, ${key})`;
        } else {
          // Plain property access, so each place in a template keeps its own fast property lookup.
          value = `(${value})?.[${key}]`;
        }
      } else if (this.isOp("[")) {
        this.i++;
        const key = this.parse();
        this.expectOp("]");
        value = `rt.get(${value}, ${key})`;
      } else if (this.isOp("(")) {
        const { positional, named } = this.args();
        value = `rt.call(${value}, [${positional.join(", ")}], {${named.join(", ")}})`;
      } else {
        return value;
      }
    }
  }
  /** (a, b, key=value) */
  args(): { positional: string[]; named: string[] } {
    this.expectOp("(");
    const positional: string[] = [];
    const named: string[] = [];
    while (!this.isOp(")")) {
      if (this.peek().type === "name" && this.peek(1).type === "op" && this.peek(1).value === "=") {
        const key = this.expectName();
        this.i++;
        named.push(`[${JSON.stringify(key)}]: ${this.parse()}`); // computed: "__proto__" stays a name
      } else {
        if (named.length) this.fail("a positional argument after a named one");
        positional.push(this.parse());
      }
      if (!this.isOp(",")) break;
      this.i++;
    }
    this.expectOp(")");
    return { positional, named };
  }
  private primary(): string {
    const t = this.next();
    if (t.type === "number") return t.value;
    if (t.type === "string") {
      let value = JSON.stringify(t.value);
      // Adjacent strings join, as in Python.
      while (this.peek().type === "string") value = JSON.stringify(JSON.parse(value) + this.next().value);
      return value;
    }
    if (t.type === "name") {
      if (t.value === "true" || t.value === "True") return "true";
      if (t.value === "false" || t.value === "False") return "false";
      if (t.value === "none" || t.value === "None") return "null";
      return `c[${JSON.stringify(t.value)}]`;
    }
    if (t.type === "op" && t.value === "(") {
      const first = this.parse();
      if (this.isOp(",")) {
        const items = [first];
        while (this.isOp(",")) {
          this.i++;
          if (this.isOp(")")) break;
          items.push(this.parse());
        }
        this.expectOp(")");
        return `[${items.join(", ")}]`;
      }
      this.expectOp(")");
      return `(${first})`;
    }
    if (t.type === "op" && t.value === "[") {
      const items: string[] = [];
      while (!this.isOp("]")) {
        items.push(this.parse());
        if (!this.isOp(",")) break;
        this.i++;
      }
      this.expectOp("]");
      return `[${items.join(", ")}]`;
    }
    if (t.type === "op" && t.value === "{") {
      const entries: string[] = [];
      while (!this.isOp("}")) {
        const key = this.parse();
        this.expectOp(":");
        entries.push(`[${key}]: ${this.parse()}`);
        if (!this.isOp(",")) break;
        this.i++;
      }
      this.expectOp("}");
      return `({${entries.join(", ")}})`;
    }
    return this.fail(t.type === "end" ? "the expression ends too soon" : `unexpected "${t.value}"`);
  }
}

export function compileExpression(source: string, ctx: ExpressionContext): string {
  const parser = new ExpressionParser(tokenize(source, ctx.line), ctx, source);
  const js = parser.parse();
  parser.expectEnd();
  return js;
}
