// Decides, at build time, what the Worker would otherwise work out on every
// cold start: the tree of path segments, the map of literal paths, and the
// _middleware files around each route. The entry carries the result as data
// (`planSource`); the runtime's router only reads it. Both follow the one
// route grammar in runtime/routing.ts.
import { tree, type RouteEntry, type RoutePlan } from "../runtime/router.js";
import { parsePattern } from "../runtime/routing.js";

/** A folder of the route tree, as the build makes it. Rows are indexes into the entry's table; -1 is none. */
export interface Node {
  route: number;
  children: Map<string, Node> | undefined;
  param: Node | undefined;
  /** The [[catchall]] file in this folder. */
  catchall: number;
  /** The _middleware rows of this folder and the folders above it, outermost first. */
  middleware: number[];
  /** The params down to this folder: for the middleware of a path no route serves. */
  names: string[];
}

const node = (names: string[] = []): Node => ({ route: -1, children: undefined, param: undefined, catchall: -1, middleware: [], names });

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
        next = node([...names]);
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
  const plan = planTree(entries);
  const planned = entries.map((entry, i) => (plan.rows[i].around.length ? { ...entry, around: plan.rows[i].around } : entry));
  return { entries: planned, tree: tree(...treeArguments(plan)), literal: plan.literal };
}

/** The tree's folders numbered depth first, the root 0, as the runtime's `tree()` reads them. */
interface TreeColumns {
  route: number[];
  param: number[];
  catchall: number[];
  edge: (string | [string, number][] | 0)[];
  next: number[];
  middleware: number[][];
  names: string[][];
}

function treeColumns(plan: Plan): TreeColumns {
  const c: TreeColumns = { route: [], param: [], catchall: [], edge: [], next: [], middleware: [], names: [] };
  const visit = (at: Node): number => {
    const i = c.route.length;
    c.route.push(at.route);
    c.catchall.push(at.catchall);
    c.middleware.push(at.middleware);
    c.names.push(at.names);
    c.param.push(0);
    c.edge.push(0);
    c.next.push(0);
    const kids = [...(at.children ?? [])].map(([seg, child]): [string, number] => [seg, visit(child)]);
    if (kids.length === 1) [c.edge[i], c.next[i]] = kids[0];
    else if (kids.length > 1) c.edge[i] = kids;
    if (at.param) c.param[i] = visit(at.param);
    return i;
  };
  visit(plan.tree);
  return c;
}

/**
 * The runtime `tree()`'s arguments, in its order: what the entry spells out, and what planRoutes passes.
 * The folders' middleware and param names only when the app has middleware: the middleware part alone reads them.
 */
export function treeArguments(plan: Plan): Parameters<typeof tree> {
  const c = treeColumns(plan);
  const routing = [c.route, c.param, c.catchall, c.edge, c.next] as const;
  return plan.hasMiddleware ? [...routing, c.middleware, c.names] : [...routing];
}

/** The tree and the literal map as JavaScript for the entry: a call of the runtime's `tree`, named `t` there. */
export function planSource(plan: Plan): { tree: string; literal: string } {
  return {
    tree: `t(${treeArguments(plan).map((column) => JSON.stringify(column)).join(",")})`,
    literal: `new Map([${[...plan.literal].map(([path, row]) => `[${JSON.stringify(path)},${row}]`).join(",")}])`,
  };
}
