// The syntax tree of one template → JavaScript: `{ parent, blocks, body }`,
// plain functions of the scope `c` and the render state `r` that append to a
// string `o`; for apps that stream (`renderStream`), also `stream: { blocks,
// body }`, generators (calling template-stream.ts's `rs`) that yield `o` as
// it grows (at least every 32 KB of a loop), so that the first rows leave
// before the last are rendered. One function per node kind. Scopes are
// objects chained by prototype: a loop gets one for its variables (and its
// {% set %}s) unless its body only reads names, when they are JavaScript
// locals; a macro call one for its parameters (rt.macro), an include one of
// its own (rt.include); everything else writes to the scope it is in.
import { expressionCode, localNames, stringLiteral, withLocals } from "./expression-code.js";
import { inQuotedAttribute, scanHtml, START } from "./html-state.js";
import { allNodes, outsideBlocks, readsName, type Node, type NodeOf } from "./nodes.js";

/** Lines of JavaScript, indented as they are written. */
class Writer {
  private readonly lines: string[] = [];
  constructor(private depth: number) {}
  line(text: string): void {
    this.lines.push("  ".repeat(this.depth) + text);
  }
  /** The rest of a statement, one level in. */
  continued(text: string): void {
    this.lines.push("  ".repeat(this.depth + 1) + text);
  }
  indent(inside: () => void): void {
    this.depth++;
    inside();
    this.depth--;
  }
  toString(): string {
    return this.lines.join("\n");
  }
}

interface Generation {
  w: Writer;
  /** The {{ outputs }} that stand inside a quoted attribute value. */
  inAttribute: ReadonlySet<Node>;
  /** Loops generated so far, to name each loop's variables apart. */
  loops: number;
  /** Writing the body of a template that extends another, whose output is dropped. */
  dropped: boolean;
  /** Writing generators that yield their output in pieces (the `stream` parts), not functions that return it. */
  stream: boolean;
}

type Statement = Exclude<Node["type"], "text" | "output">;

/** `"name": { parent, blocks, body },` for the templates object, its lines indented `depth` levels; with `stream`, its generators too. */
export function generateTemplate(name: string, nodes: Node[], depth: number, stream = false): string {
  const g: Generation = { w: new Writer(depth), inAttribute: quotedAttributeOutputs(nodes), loops: 0, dropped: false, stream: false };
  const parent = nodes.find((n): n is NodeOf<"extends"> => n.type === "extends")?.template;
  const blocks = [...allNodes(nodes)].filter((n): n is NodeOf<"block"> => n.type === "block");
  const { w } = g;
  w.line(`${key(name)}: {`);
  w.indent(() => {
    w.line(`parent: ${JSON.stringify(parent ?? null)},`);
    const writes = writingBlocks(blocks);
    if (writes.length) w.line(`writes: ${JSON.stringify(writes)},`);
    parts(g, blocks, nodes, parent);
    if (stream) {
      w.line("stream: {");
      g.stream = true;
      w.indent(() => parts(g, blocks, nodes, parent));
      g.stream = false;
      w.line("},");
    }
  });
  w.line("},");
  return w.toString();
}

/** `blocks: { ... }, body: ...`, as functions or (g.stream) generators. */
function parts(g: Generation, blocks: NodeOf<"block">[], nodes: Node[], parent: string | undefined): void {
  const { w } = g;
  w.line(blocks.length ? "blocks: {" : "blocks: {},");
  if (blocks.length) {
    w.indent(() => blocks.forEach((block) => blockPart(block, g)));
    w.line("},");
  }
  // A child template's output outside its blocks is dropped, as in Jinja; its
  // top-level {% set %}, {% import %} and macros still run before the parent.
  g.dropped = parent !== undefined;
  const extend = parent && `${g.stream ? "rs" : "rt"}.extend(r, ${JSON.stringify(parent)}, c)`;
  part(g, "body: ", nodes, extend || "o", ",");
  g.dropped = false;
}

/** An object key; "__proto__" computed, since a literal one would set the object's prototype. */
const key = (name: string) => (name === "__proto__" ? `[${JSON.stringify(name)}]` : JSON.stringify(name));

/**
 * `function (c, r) { ... }` that renders `nodes` and returns `result`, between
 * `head` and `tail`; a generator (g.stream) yields its output instead, and
 * then what `result` yields when it is another part (a parent's body).
 */
function part(g: Generation, head: string, nodes: Node[], result: string, tail: string): void {
  const generator = g.stream;
  g.w.line(`${head}function${generator ? "*" : ""} (c, r) {`);
  g.w.indent(() => {
    g.w.line('let o = "";');
    // A child template's own output is dropped: it is written as a function's is, and only its parent's is yielded.
    g.stream = generator && !g.dropped;
    writeNodes(nodes, g);
    g.stream = generator;
    if (!generator) g.w.line(`return ${result};`);
    else g.w.line(result === "o" ? "yield o;" : `yield* ${result};`);
  });
  g.w.line(`}${tail}`);
}

/** In a generator: what is written so far goes out, before another part's output (a block, an include) or between a loop's passes. */
function flush({ w }: Generation): void {
  w.line("yield o;");
  w.line('o = "";');
}

/** A loop's output goes out in pieces of at least this many characters. */
const CHUNK = 32768;

/** A block's own function; one that calls super() is marked, so that only it gets a scope to hold `super`. */
function blockPart(node: NodeOf<"block">, g: Generation): void {
  const sup = readsName(node.body, "super", outsideBlocks);
  part(g, `${key(node.name)}: ${sup ? "rt.sup(" : ""}`, node.body, "o", sup ? ")," : ",");
}

/** Statements that write to the scope they stand in. */
const WRITES = new Set<Node["type"]>(["set", "import", "from", "macro", "block"]);

/** Blocks that may change what their caller's scope holds afterwards: a {% set %} in them, a nested block, super(). */
function writingBlocks(blocks: NodeOf<"block">[]): string[] {
  return blocks
    .filter((b) => readsName(b.body, "super", outsideBlocks) || [...allNodes(b.body, outsideBlocks)].some((n) => WRITES.has(n.type)))
    .map((b) => b.name);
}

/** Text and {{ output }} next to each other become one `o += a + b + ...`: one append per run instead of one per piece. */
function writeNodes(nodes: Node[], g: Generation): void {
  let run: string[] = [];
  for (const node of nodes) {
    if (node.type === "text") run.push(text(node));
    else if (node.type === "output") run.push(output(node, g));
    else {
      append(run, g.w);
      run = [];
      (STATEMENTS[node.type] as (node: Node, g: Generation) => void)(node, g);
    }
  }
  append(run, g.w);
}

/** `o += a + b;`, a long run wrapped at about 100 columns. */
function append(run: string[], w: Writer): void {
  if (!run.length) return;
  const lines = [`o += ${run[0]}`];
  for (const part of run.slice(1)) {
    if (lines[lines.length - 1].length + part.length > 100) lines.push(part);
    else lines[lines.length - 1] += ` + ${part}`;
  }
  lines.forEach((line, i) => {
    const ended = `${line}${i === lines.length - 1 ? ";" : " +"}`;
    if (i) w.continued(ended);
    else w.line(ended);
  });
}

const text = (node: NodeOf<"text">) => stringLiteral(node.value);

/** Escaped; in a quoted attribute value, safe output's quotes are escaped too (tojson's JSON is built of them). */
const output = (node: NodeOf<"output">, g: Generation) => `rt.${g.inAttribute.has(node) ? "a" : "o"}(${expressionCode(node.value)})`;

const STATEMENTS: { [T in Statement]: (node: NodeOf<T>, g: Generation) => void } = {
  if: ifStatement,
  for: forStatement,
  set: (node, { w }) => w.line(`c[${JSON.stringify(node.name)}] = ${expressionCode(node.value)};`),
  // The parent is the template's, read by generateTemplate: where the tag stands changes nothing.
  extends: () => {},
  include: (node, g) => {
    if (!g.stream) return g.w.line(`o += rt.include(r, ${JSON.stringify(node.template)}, c);`);
    flush(g);
    g.w.line(`yield* rs.include(r, ${JSON.stringify(node.template)}, c);`);
  },
  import: (node, { w }) => w.line(`c[${JSON.stringify(node.alias)}] = rt.imports(r, ${JSON.stringify(node.template)});`),
  from: fromStatement,
  // In a template that extends another, the parent places the block: here it runs only for what it writes to the scope.
  block: (node, g) => {
    if (!g.stream) return g.w.line(`${g.dropped ? "rt.dropped(" : "o += rt.block("}r, ${JSON.stringify(node.name)}, c);`);
    flush(g);
    g.w.line(`yield* rs.block(r, ${JSON.stringify(node.name)}, c);`);
  },
  macro: macroStatement,
};

function ifStatement(node: NodeOf<"if">, g: Generation): void {
  node.branches.forEach((branch, i) => {
    g.w.line(`${i ? "} else if" : "if"} (rt.truthy(${expressionCode(branch.test)})) {`);
    g.w.indent(() => writeNodes(branch.body, g));
  });
  if (node.otherwise) {
    g.w.line("} else {");
    g.w.indent(() => writeNodes(node.otherwise!, g));
  }
  g.w.line("}");
}

/** What a loop body may do that reads or writes its scope as an object, not name by name. */
const SCOPED = new Set<Node["type"]>(["set", "include", "import", "from", "block", "macro"]);

/**
 * A loop whose body only reads names (no {% set %}, include, block or macro,
 * at any depth) keeps its variables and `loop` in JavaScript locals: no scope
 * object, and a read is a local instead of a lookup along the scope chain
 * (about a third of a 100-row table's render). Any other loop gets one scope
 * per loop, not per pass, and a pass costs no allocation. `loop` is made only
 * when the body reads it (a block inside is a function of its own, as Jinja's
 * find_undeclared sees it). The {% else %} part runs in the scope around the loop.
 */
function forStatement(node: NodeOf<"for">, g: Generation): void {
  const { w } = g;
  const n = ++g.loops;
  const [items, i, outer] = [`items${n}`, `i${n}`, `outer${n}`];
  const item = `${items}[${i}]`;
  const readsLoop = readsName(node.body, "loop", outsideBlocks);
  const inLocals = ![...allNodes(node.body)].some((b) => SCOPED.has(b.type));
  const names = new Map(localNames());
  if (inLocals && readsLoop) names.set("loop", `loop${n}`);
  if (inLocals) node.targets.forEach((t, k) => names.set(t, `t${n}_${k}`));
  w.line("{");
  w.indent(() => {
    w.line(`const ${items} = rt.list(${expressionCode(node.items)});`);
    if (!inLocals) w.line(`const ${outer} = c;`);
    w.line(`if (${items}.length) {`);
    w.indent(() => {
      if (!inLocals) w.line(`c = Object.create(${outer});`);
      w.line(`for (let ${i} = 0; ${i} < ${items}.length; ${i}++) {`);
      w.indent(() => {
        const bind = (name: string, local: string, value: string) =>
          w.line(inLocals ? `const ${local} = ${value};` : `c${name === "loop" ? ".loop" : `[${JSON.stringify(name)}]`} = ${value};`);
        // A target named loop hides it.
        if (readsLoop && !(inLocals && node.targets.includes("loop"))) bind("loop", `loop${n}`, `rt.loop(${i}, ${items})`);
        const [only, ...more] = node.targets;
        if (!more.length) bind(only, `t${n}_0`, item);
        else node.targets.forEach((t, k) => bind(t, `t${n}_${k}`, `rt.get(${item}, ${k})`));
        withLocals(names, () => writeNodes(node.body, g));
        if (g.stream) {
          w.line(`if (o.length >= ${CHUNK}) {`);
          w.indent(() => flush(g));
          w.line("}");
        }
      });
      w.line("}");
      if (!inLocals) w.line(`c = ${outer};`);
    });
    if (node.otherwise) {
      w.line("} else {");
      w.indent(() => writeNodes(node.otherwise!, g));
    }
    w.line("}");
  });
  w.line("}");
}

function fromStatement(node: NodeOf<"from">, { w }: Generation): void {
  w.line("{");
  w.indent(() => {
    w.line(`const ns = rt.imports(r, ${JSON.stringify(node.template)});`);
    for (const { name, alias } of node.names) w.line(`c[${JSON.stringify(alias)}] = rt.get(ns, ${JSON.stringify(name)});`);
  });
  w.line("}");
}

/** Parameters as [["a"], ["b", (c) => default]]: a default is evaluated at each call, in the macro's scope. */
function macroStatement(node: NodeOf<"macro">, g: Generation): void {
  const params = node.params.map((p) => `[${JSON.stringify(p.name)}${p.fallback ? `, (c) => ${expressionCode(p.fallback)}` : ""}]`);
  const name = JSON.stringify(node.name);
  const { dropped, stream } = g;
  // A macro's output is its caller's, and a value: a function that returns it, in a generator too.
  g.dropped = g.stream = false;
  part(g, `c[${name}] = rt.macro(c, r, `, node.body, "o", `, [${params.join(", ")}], ${name});`);
  Object.assign(g, { dropped, stream });
}

/**
 * Where each {{ output }} stands in the HTML, reading the template's text in
 * document order (html-state.ts): inside a quoted attribute value, even safe
 * output must not close the quote.
 */
function quotedAttributeOutputs(nodes: Node[]): Set<Node> {
  const found = new Set<Node>();
  let html = START;
  for (const node of allNodes(nodes)) {
    if (node.type === "text") html = scanHtml(node.value, html);
    else if (node.type === "output" && inQuotedAttribute(html)) found.add(node);
  }
  return found;
}
