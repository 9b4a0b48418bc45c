// The plan is made at build time and read back by the Worker: what the entry
// spells out must be exactly the plan, and the plan must hold what the router
// would otherwise have worked out at start-up.
import { describe, expect, it } from "vitest";
import { node, type Node } from "../runtime/router.js";
import { planSource, planTree, type PlanRow } from "./route-plan.js";

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

/** The entry's source, evaluated the way the Worker does: `n` is the runtime's node(). */
const evaluate = (source: string): unknown => new Function("n", `return ${source};`)(node);

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

describe("planSource", () => {
  it("spells out the tree and the literal map exactly", () => {
    const plan = planTree(ROWS);
    const { tree, literal } = planSource(plan);
    expect(evaluate(tree)).toEqual(plan.tree);
    expect(evaluate(literal)).toEqual(plan.literal);
  });

  it("leaves out the folders' param names when no middleware can need them", () => {
    const plan = planTree(ROWS.filter((r) => !r.middleware));
    const tree = evaluate(planSource(plan).tree) as Node;
    expect(tree.children!.get("users")!.param!.names).toEqual([]);
    expect(plan.tree.children!.get("users")!.param!.names).toEqual(["id"]);
  });

  it("keeps a segment that is not an identifier as a string", () => {
    const plan = planTree([{ pattern: "/caf\u00e9" }, { pattern: "/a\"b" }, { pattern: "/__proto__" }]);
    const tree = evaluate(planSource(plan).tree) as Node;
    expect([...tree.children!.keys()]).toEqual(["caf\u00e9", "a\"b", "__proto__"]);
  });
});
