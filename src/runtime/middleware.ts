// The _middleware files around the routes: their steps before a route's own,
// the declarations of their folders merged under the route's, and the chains
// for paths no route serves (a folder's middleware still runs for those). The
// entry ships this part only for an app that has a _middleware file
// (entry.ts): an app without one gets each route's own declarations as they
// are, and its unmatched paths go straight to the assets.
import type { Declarations } from "./declarations.js";
import { childOf, newChain, toParams, type Chain, type Layers, type Match, type RoutePlan, type Step } from "./router.js";

/** The declarations in force for a file: its folders' from the outermost in, then its own; the nearest wins. */
export function mergeDeclarations(layers: (Declarations | undefined)[]): Declarations {
  const merged: Declarations = {};
  for (const layer of layers) if (layer) Object.assign(merged, layer);
  return merged;
}

/** The router's middleware part, given the plan and a row's steps for a method. */
export function middleware({ entries, tree }: RoutePlan, stepsOf: (row: number, method: string) => Step[] | undefined): Layers {
  function around(rows: number[], method: string, own: Declarations | undefined): Pick<Chain, "steps" | "declared"> {
    const steps: Step[] = [];
    for (const row of rows) {
      const mine = stepsOf(row, method);
      if (mine) steps.push(...mine);
    }
    return { steps, declared: mergeDeclarations([...rows.map((row) => entries[row].declares), own]) };
  }

  /** No route matched: the middleware of the folders the path goes through still runs, then the assets. */
  const chains: (Map<string, Chain> | undefined)[] = [];
  function unmatched(segs: string[], method: string): Match {
    const values: string[] = [];
    let at = 0;
    for (const seg of segs) {
      const to = childOf(tree, at, seg) || (seg !== "" ? tree.param[at] : 0);
      if (!to) break;
      if (to === tree.param[at]) values.push(seg);
      at = to;
    }
    let chain = chains[at]?.get(method);
    if (!chain) {
      const { steps, declared } = around(tree.middleware![at], method, undefined);
      (chains[at] ??= new Map()).set(method, (chain = newChain(steps, declared, "assets", "", undefined)));
    }
    return { chain, params: toParams(tree.names![at], values) };
  }

  return { around, unmatched };
}
