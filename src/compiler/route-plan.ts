// Decides, at build time, what the Worker would otherwise work out on every
// cold start: the tree of path segments, the map of literal paths, and the
// _middleware files around each route. The entry carries the result as data
// (`planSource`); the runtime's router only reads it. Both follow the one
// route grammar in runtime/routing.ts.
import { node, type Node, type RouteEntry, type RoutePlan } from "../runtime/router.js";
import { parsePattern } from "../runtime/routing.js";

/** A row of the entry's table, as the plan needs it: middleware rows first (outermost first), then routes. */
export interface PlanRow {
  pattern: string;
  middleware?: boolean;
}

export interface Plan {
  tree: Node;
  literal: Map<string, number>;
  /** Per row: the middleware rows around it. */
  rows: { around: number[] }[];
  /** The folders' param names serve only the middleware of paths no route serves. */
  hasMiddleware: boolean;
}

/** Places every row at its folder's node: folders are literal or [param] nodes; a [[catchall]] file sits in its parent folder. */
export function planTree(rows: PlanRow[]): Plan {
  const tree = node();
  const literal = new Map<string, number>();
  const own = new Map<Node, number>(); // a folder's own _middleware row
  const homes: Node[] = [];
  const planned = rows.map((row, index) => {
    let at = tree;
    const names: string[] = [];
    let catchall = false;
    for (const seg of parsePattern(row.pattern)) {
      if (seg.kind === "catchall") {
        names.push(seg.name);
        catchall = true;
        continue;
      }
      if (seg.kind === "param") names.push(seg.name);
      let next = seg.kind === "param" ? at.param : at.children?.get(seg.value);
      if (!next) {
        next = node(-1, 0, 0, -1, [], [...names]);
        if (seg.kind === "param") at.param = next;
        else (at.children ??= new Map()).set(seg.value, next);
      }
      at = next;
    }
    homes.push(at);
    if (row.middleware) own.set(at, index);
    else if (catchall) at.catchall = index;
    else {
      at.route = index;
      if (names.length === 0) literal.set(row.pattern, index);
    }
    return { around: [] as number[] };
  });
  addMiddleware(tree, [], own);
  homes.forEach((home, i) => {
    if (!rows[i].middleware) planned[i].around = home.middleware;
  });
  return { tree, literal, rows: planned, hasMiddleware: own.size > 0 };
}

/** Each folder's middleware: its parent's, then its own. */
function addMiddleware(at: Node, above: number[], own: Map<Node, number>): void {
  const mine = own.get(at);
  at.middleware = mine === undefined ? above : [...above, mine];
  for (const child of at.children?.values() ?? []) addMiddleware(child, at.middleware, own);
  if (at.param) addMiddleware(at.param, at.middleware, own);
}

/** The plan for a table of entries made by hand (tests, tools): what the entry of `kiln build` spells out. */
export function planRoutes(entries: RouteEntry[]): RoutePlan {
  const { tree, literal, rows } = planTree(entries);
  const planned = entries.map((entry, i) => (rows[i].around.length ? { ...entry, around: rows[i].around } : entry));
  return { entries: planned, tree, literal };
}

/** The tree and the literal map as JavaScript for the entry: calls of the runtime's `node`, named `n` there. */
export function planSource(plan: Plan): { tree: string; literal: string } {
  return {
    tree: nodeSource(plan.tree, plan.hasMiddleware),
    literal: `new Map([${[...plan.literal].map(([path, row]) => `[${JSON.stringify(path)},${row}]`).join(",")}])`,
  };
}

function nodeSource(at: Node, names: boolean): string {
  const children = at.children ? `[${[...at.children].map(([seg, child]) => `[${JSON.stringify(seg)},${nodeSource(child, names)}]`).join(",")}]` : "0";
  const args = [String(at.route), children, at.param ? nodeSource(at.param, names) : "0", String(at.catchall), JSON.stringify(at.middleware), names ? JSON.stringify(at.names) : "[]"];
  // Trailing arguments that equal node()'s defaults are left out.
  const defaults = ["-1", "0", "0", "-1", "[]", "[]"];
  while (args.length && args[args.length - 1] === defaults[args.length - 1]) args.pop();
  return `n(${args.join(",")})`;
}
