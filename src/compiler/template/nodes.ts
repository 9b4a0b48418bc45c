// The syntax tree of a template: what the parser builds and the code
// generator reads. Questions about a template (does this loop read `loop`,
// does this block call super(), which templates does it name) are answered
// here, on the tree, never by reading the JavaScript made from it.

/** Jinja expressions. */
export type Expr =
  | { type: "literal"; value: string | number | boolean | null }
  | { type: "name"; name: string }
  | { type: "list"; items: Expr[] }
  | { type: "dict"; entries: [key: Expr, value: Expr][] }
  /** a.b, a.0 */
  | { type: "attribute"; object: Expr; key: string | number }
  /** a[b] */
  | { type: "item"; object: Expr; key: Expr }
  | { type: "call"; callee: Expr; args: Args }
  /** a.b(...): a method, or one of Jinja's dict methods (items, keys, values) */
  | { type: "method"; object: Expr; key: string | number; args: Args }
  /** Positional arguments only: a filter or test ignores named ones. */
  | { type: "filter"; value: Expr; name: string; args: Expr[] }
  | { type: "test"; value: Expr; name: string; args: Expr[]; negated: boolean }
  | { type: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { type: "unary"; op: "-" | "+"; operand: Expr }
  | { type: "not"; operand: Expr }
  | { type: "logical"; op: "and" | "or"; left: Expr; right: Expr }
  /** item in container, item not in container */
  | { type: "contains"; item: Expr; container: Expr; negated: boolean }
  /** then if test else otherwise */
  | { type: "conditional"; test: Expr; then: Expr; otherwise?: Expr };

export type BinaryOp = "==" | "!=" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "//" | "%" | "**" | "~";

export interface Args {
  positional: Expr[];
  named: [name: string, value: Expr][];
}

/** Template nodes. Comments, {% raw %} and whitespace control are the lexer's: they arrive here as text. */
export type Node =
  | { type: "text"; value: string; line: number }
  | { type: "output"; value: Expr; line: number }
  | { type: "if"; branches: { test: Expr; body: Node[] }[]; otherwise?: Node[]; line: number }
  | { type: "for"; targets: string[]; items: Expr; body: Node[]; otherwise?: Node[]; line: number }
  | { type: "set"; name: string; value: Expr; line: number }
  | { type: "extends"; template: string; line: number }
  | { type: "include"; template: string; line: number }
  | { type: "import"; template: string; alias: string; line: number }
  | { type: "from"; template: string; names: { name: string; alias: string }[]; line: number }
  | { type: "block"; name: string; body: Node[]; line: number }
  | { type: "macro"; name: string; params: { name: string; fallback?: Expr }[]; body: Node[]; line: number };

export type NodeOf<T extends Node["type"]> = Extract<Node, { type: T }>;
export type ExprOf<T extends Expr["type"]> = Extract<Expr, { type: T }>;

/** The node lists directly inside a node, in document order. */
export function childBodies(node: Node): Node[][] {
  switch (node.type) {
    case "if":
      return [...node.branches.map((b) => b.body), ...(node.otherwise ? [node.otherwise] : [])];
    case "for":
      return node.otherwise ? [node.body, node.otherwise] : [node.body];
    case "block":
    case "macro":
      return [node.body];
    default:
      return [];
  }
}

/** The expressions a node holds itself, not those of the nodes inside it. */
function ownExpressions(node: Node): Expr[] {
  switch (node.type) {
    case "output":
    case "set":
      return [node.value];
    case "if":
      return node.branches.map((b) => b.test);
    case "for":
      return [node.items];
    case "macro":
      return node.params.flatMap((p) => (p.fallback ? [p.fallback] : []));
    default:
      return [];
  }
}

function subExpressions(e: Expr): Expr[] {
  switch (e.type) {
    case "list":
      return e.items;
    case "dict":
      return e.entries.flat();
    case "attribute":
    case "unary":
    case "not":
      return [e.type === "attribute" ? e.object : e.operand];
    case "item":
      return [e.object, e.key];
    case "call":
      return [e.callee, ...e.args.positional, ...e.args.named.map(([, v]) => v)];
    case "method":
      return [e.object, ...e.args.positional, ...e.args.named.map(([, v]) => v)];
    case "filter":
    case "test":
      return [e.value, ...e.args];
    case "binary":
    case "logical":
      return [e.left, e.right];
    case "contains":
      return [e.item, e.container];
    case "conditional":
      return [e.test, e.then, ...(e.otherwise ? [e.otherwise] : [])];
    default:
      return [];
  }
}

/** Every node in `nodes` and inside them, in document order; `enter(node) === false` skips what is inside `node`. */
export function* allNodes(nodes: Node[], enter: (node: Node) => boolean = () => true): Generator<Node> {
  for (const node of nodes) {
    yield node;
    if (enter(node)) for (const body of childBodies(node)) yield* allNodes(body, enter);
  }
}

function* expressionTree(e: Expr): Generator<Expr> {
  yield e;
  for (const sub of subExpressions(e)) yield* expressionTree(sub);
}

/** Whether an expression in `nodes` (or inside them, as far as `enter` allows) reads the variable `name`. */
export function readsName(nodes: Node[], name: string, enter?: (node: Node) => boolean): boolean {
  for (const node of allNodes(nodes, enter)) {
    for (const e of ownExpressions(node)) {
      for (const sub of expressionTree(e)) if (sub.type === "name" && sub.name === name) return true;
    }
  }
  return false;
}

/** A block's own code: a block inside it is a template part of its own, with its own `super()`. */
export const outsideBlocks = (node: Node): boolean => node.type !== "block";
