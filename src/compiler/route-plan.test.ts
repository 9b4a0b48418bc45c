// The plan is made at build time and read back by the Worker: what the entry
// spells out must be exactly the plan, and the plan must hold what the router
// would otherwise have worked out at start-up.
import { describe, expect, it } from "vitest";
import { childOf, tree, type Tree } from "../runtime/router.js";
import { planRoutes, planSource, planTree, treeArguments, type PlanRow } from "./route-plan.js";

const ROWS: PlanRow[] = [
  { pattern: "/", middleware: true },
  { pattern: "/api", middleware: true },
  { pattern: "/users/:id", middleware: true },
  { pattern: "/" },
  { pattern: "/about" },
  { pattern: "/api/items/:id" },
  { pattern: "/files/:path*" },
  { pattern: "/users/:id" },
  { pattern: "/users/:uid/posts" },
  { pattern: "/users/new" },
];

/** The entry's source, evaluated the way the Worker does: `t` is the runtime's tree(). */
const evaluate = (source: string): unknown => new Function("t", `return ${source};`)(tree);

/** The folder a path of literal segments and [params] ("users/:/posts") leads to in the Worker's tree, or 0. */
function folder(t: Tree, path: string): number {
  let at = 0;
  for (const seg of path.split("/")) if ((at = seg === ":" ? t.param[at] : childOf(t, at, seg)) === 0) return 0;
  return at;
}

describe("planTree", () => {
  const plan = planTree(ROWS);

  it("maps every path without params to its row, and nothing else", () => {
    expect([...plan.literal]).toEqual([["/", 3], ["/about", 4], ["/users/new", 9]]);
  });

  // users/[id].ts is the index of the folder users/[id]/ (as about.ts is about/index.ts): its _middleware runs around it.
  it("puts around each route the middleware of its folder and the folders above, outermost first", () => {
    expect(plan.rows.map((r) => r.around)).toEqual([[], [], [], [0], [0], [0, 1], [0], [0, 2], [0, 2], [0]]);
  });

  it("makes a [param] folder one folder whatever its name, and puts a [[catchall]] file in its parent folder", () => {
    const users = plan.tree.children!.get("users")!;
    expect(users.param!.route).toBe(7);
    expect(users.param!.children!.get("posts")!.route).toBe(8);
    expect(plan.tree.children!.get("files")!.catchall).toBe(6);
  });
});

describe("the tree as the Worker reads it", () => {
  const t = planRoutes(ROWS.map((row) => ({ ...row, methods: {} }))).tree;

  it("numbers the folders, the root 0, each with its route, [param] folder and [[catchall]] file", () => {
    expect(t.route[0]).toBe(3);
    expect(t.route[folder(t, "users/:")]).toBe(7);
    expect(t.route[folder(t, "users/:/posts")]).toBe(8);
    expect(t.route[folder(t, "users/new")]).toBe(9);
    expect(t.catchall[folder(t, "files")]).toBe(6);
    expect(folder(t, "users/nothing")).toBe(0);
  });

  it("keeps one literal folder as its segment and several in a Map: a few arrays, however many routes", () => {
    expect(t.edge[folder(t, "users/:")]).toBe("posts");
    expect(t.edge[0]).toBeInstanceOf(Map);
    const big = planRoutes(Array.from({ length: 10_000 }, (_, i) => ({ pattern: `/r${i >> 2}/:id${i % 4 ? "/x" : ""}`, methods: {} }))).tree;
    expect(big.edge.filter((e) => e instanceof Map)).toHaveLength(1);
  });
});

describe("planSource", () => {
  it("spells out the tree and the literal map exactly", () => {
    const plan = planTree(ROWS);
    const { tree: source, literal } = planSource(plan);
    expect(evaluate(source)).toEqual(tree(...treeArguments(plan)));
    expect(evaluate(literal)).toEqual(plan.literal);
  });

  it("leaves out the folders' middleware and param names when no middleware can need them", () => {
    const plan = planTree(ROWS.filter((r) => !r.middleware));
    const t = evaluate(planSource(plan).tree) as Tree;
    expect(t.names).toBeUndefined();
    expect(t.middleware).toBeUndefined();
    const withMiddleware = evaluate(planSource(planTree(ROWS)).tree) as Tree;
    expect(withMiddleware.names![folder(withMiddleware, "users/:")]).toEqual(["id"]);
    expect(withMiddleware.middleware![folder(withMiddleware, "users/:")]).toEqual([0, 2]);
  });

  it("keeps a segment that is not an identifier as a string", () => {
    const plan = planTree([{ pattern: "/caf\u00e9" }, { pattern: "/a\"b" }, { pattern: "/__proto__" }, { pattern: "/x/__proto__" }]);
    const t = evaluate(planSource(plan).tree) as Tree;
    expect([...(t.edge[0] as Map<string, number>).keys()]).toEqual(["caf\u00e9", "a\"b", "__proto__", "x"]);
    expect(t.edge[folder(t, "x")]).toBe("__proto__");
  });
});
