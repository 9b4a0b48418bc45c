// Expression trees → JavaScript. The code calls the template runtime (`rt`,
// src/runtime/template.ts) for what JavaScript does differently: attribute
// access on undefined, Python truthiness, `in`, filters and tests. Variables
// are looked up in the scope object `c`. Each generated expression is
// self-contained (a literal, a lookup, a call, or in parentheses), so any of
// them can stand where another expects an operand.
import type { Args, Expr, ExprOf } from "./nodes.js";

const JS_OPS: Record<string, string> = { "==": "===", "!=": "!==" };
const quote = (key: string | number) => (typeof key === "number" ? String(key) : JSON.stringify(key));
const negated = (negate: boolean, code: string) => (negate ? `(!${code})` : code);

/** A JavaScript string; in single quotes when that spares escaping the double quotes of HTML. */
export function stringLiteral(value: string): string {
  if (!value.includes('"') || value.includes("'")) return JSON.stringify(value);
  let quoted = "'";
  for (const ch of value) quoted += ch === '"' ? ch : JSON.stringify(ch).slice(1, -1);
  return `${quoted}'`;
}

/** Loop variables held in JavaScript locals (generate.ts), by name; every other name is read from the scope. */
let locals: ReadonlyMap<string, string> = new Map();

export const localNames = (): ReadonlyMap<string, string> => locals;

/** Generates what `inside` generates with `names` read from locals. */
export function withLocals<T>(names: ReadonlyMap<string, string>, inside: () => T): T {
  const before = locals;
  locals = names;
  try {
    return inside();
  } finally {
    locals = before;
  }
}

export function expressionCode(e: Expr): string {
  return (GENERATORS[e.type] as (e: Expr) => string)(e);
}

function args({ positional, named }: Args): string {
  // Named arguments as computed keys: "__proto__" stays a name, never the object's prototype.
  return `[${positional.map(expressionCode).join(", ")}], {${named.map(([k, v]) => `[${JSON.stringify(k)}]: ${expressionCode(v)}`).join(", ")}}`;
}

const GENERATORS: { [T in Expr["type"]]: (e: ExprOf<T>) => string } = {
  literal: (e) => (typeof e.value === "string" ? stringLiteral(e.value) : String(e.value)),
  name: (e) => locals.get(e.name) ?? `c[${JSON.stringify(e.name)}]`,
  list: (e) => `[${e.items.map(expressionCode).join(", ")}]`,
  dict: (e) => `({${e.entries.map(([k, v]) => `[${expressionCode(k)}]: ${expressionCode(v)}`).join(", ")}})`,
  attribute: (e) =>
    typeof e.key === "string" && e.key in Object.prototype
      ? // constructor, __proto__, toString...: data if it has them, never what every object inherits
        `rt.get(${expressionCode(e.object)}, ${quote(e.key)})`
      : // Plain property access, so each place in a template keeps its own fast property lookup.
        `(${expressionCode(e.object)})?.[${quote(e.key)}]`,
  item: (e) => `rt.get(${expressionCode(e.object)}, ${expressionCode(e.key)})`,
  call: (e) => `rt.call(${expressionCode(e.callee)}, ${args(e.args)})`,
  // Bound to its object; and dict.items() / keys() / values() on plain objects.
  method: (e) => `rt.method(${expressionCode(e.object)}, ${quote(e.key)}, ${args(e.args)})`,
  filter: (e) => `rt.filters.${e.name}(${[e.value, ...e.args].map(expressionCode).join(", ")})`,
  test: (e) => negated(e.negated, `rt.tests.${e.name}(${[e.value, ...e.args].map(expressionCode).join(", ")})`),
  binary: binary,
  unary: (e) => `(${e.op}${expressionCode(e.operand)})`,
  not: (e) => negated(true, `rt.truthy(${expressionCode(e.operand)})`),
  logical: (e) => `rt.${e.op}(${expressionCode(e.left)}, () => ${expressionCode(e.right)})`,
  contains: (e) => negated(e.negated, `rt.contains(${expressionCode(e.container)}, ${expressionCode(e.item)})`),
  conditional: (e) =>
    `(rt.truthy(${expressionCode(e.test)}) ? ${expressionCode(e.then)} : ${e.otherwise ? expressionCode(e.otherwise) : "undefined"})`,
};

function binary(e: ExprOf<"binary">): string {
  const left = expressionCode(e.left);
  const right = expressionCode(e.right);
  if (e.op === "~") return `(rt.str(${left}) + rt.str(${right}))`;
  if (e.op === "//") return `Math.floor(${left} / ${right})`;
  return `(${left} ${JS_OPS[e.op] ?? e.op} ${right})`;
}
