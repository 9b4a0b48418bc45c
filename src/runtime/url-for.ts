// Typed links: `urlFor("users/[id].ts", { id: "42" })` is "/users/42". The
// path follows from the file's name by the route grammar alone, so the Worker
// ships no table for it; `kiln build` checks that each file named in a
// urlFor(...) or a template's url_for(...) is a route, and tsc checks the
// params against the name, as it does for Handler<"users/[id].ts">.
import type { Params } from "./types.js";

declare global {
  // `kiln build` lists the app's route files here (.kiln/routes.d.ts): with it in the tsconfig, a link to a missing route is a tsc error.
  namespace Kiln {
    interface Routes {}
  }
}

/** The route files and patterns urlFor takes: any string until .kiln/routes.d.ts names them. */
export type RouteName = [keyof Kiln.Routes] extends [never] ? string : Extract<keyof Kiln.Routes, string>;

const EXTENSION = /\.(?:m?ts|m?js|tsx|jsx)$/;

type Query = Record<string, string | number | boolean | (string | number)[] | null | undefined>;

/** Params that a route without any may leave out. */
type ParamsArg<P extends string> = string extends P ? [params?: Params, query?: Query] : {} extends Params<P> ? [params?: Params<P>, query?: Query] : [params: Params<P>, query?: Query];

function value(file: string, name: string, v: unknown): string {
  if (v === undefined || v === null || v === "") throw new TypeError(`urlFor("${file}"): no value for [${name}]`);
  return encodeURIComponent(String(v));
}

/**
 * The path of a route, from its file under functions/ ("users/[id].ts") or
 * its pattern ("/users/:id"): each param percent-encoded, a catch-all's
 * array one segment per item. Keys that are no param of the route, and
 * `query`, become the query string (as in Flask's url_for).
 */
export function urlFor<P extends RouteName>(file: P, ...[params = {}, query]: ParamsArg<NoInfer<P>>): string {
  const given = params as Record<string, unknown>;
  const used = new Set<string>();
  const parts: string[] = [];
  const segs = file.startsWith("/") ? file.split("/").filter(Boolean) : file.replace(EXTENSION, "").split("/");
  if (!file.startsWith("/") && segs[segs.length - 1] === "index") segs.pop();
  for (const seg of segs) {
    const catchall = /^\[\[(.+)\]\]$/.exec(seg)?.[1] ?? /^:(.+)\*$/.exec(seg)?.[1];
    const param = catchall ? undefined : (/^\[(.+)\]$/.exec(seg)?.[1] ?? /^:(.+)$/.exec(seg)?.[1]);
    if (catchall) {
      used.add(catchall);
      const items = given[catchall] ?? [];
      if (!Array.isArray(items)) throw new TypeError(`urlFor("${file}"): [[${catchall}]] takes an array`);
      for (const item of items) parts.push(value(file, catchall, item));
    } else if (param) {
      used.add(param);
      parts.push(value(file, param, given[param]));
    } else parts.push(seg);
  }
  const search = new URLSearchParams();
  for (const [k, v] of [...Object.entries(given).filter(([k]) => !used.has(k)), ...Object.entries(query ?? {})]) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
  }
  const qs = search.toString();
  return "/" + parts.join("/") + (qs ? `?${qs}` : "");
}
