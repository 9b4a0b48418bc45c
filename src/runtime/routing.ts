// The route grammar, in one place for both halves: `kiln build` turns file
// names into these segments and patterns, and the runtime's router reads the
// patterns the build wrote. Web APIs only, like the rest of the runtime.

export type Segment =
  | { kind: "literal"; value: string }
  | { kind: "param"; name: string }
  | { kind: "catchall"; name: string };

/** The export that answers a method: GET → onRequestGet, ANY (any method) → onRequest. */
export function handlerExport(method: string): string {
  return method === "ANY" ? "onRequest" : `onRequest${method[0]}${method.slice(1).toLowerCase()}`;
}

/** The method each Pages-compatible export answers, spelt by handlerExport: onRequestGet → GET, onRequest → ANY. */
export const HANDLER_EXPORTS: Record<string, string> = /* @__PURE__ */ handlerExports();

function handlerExports(): Record<string, string> {
  return Object.fromEntries(["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map((method) => [handlerExport(method), method]));
}

/** The pattern kiln shows and the runtime reads: /users/:id, /files/:path*. */
export function formatPattern(segments: Segment[]): string {
  return "/" + segments.map((s) => (s.kind === "literal" ? s.value : s.kind === "param" ? `:${s.name}` : `:${s.name}*`)).join("/");
}

/** The names of a pattern's params and catch-all, in order: /users/:id/files/:path* → id, path. */
export function paramNames(pattern: string): string[] {
  return pattern.split("/").flatMap((part) => (part[0] === ":" ? [part.slice(1, part.endsWith("*") ? -1 : undefined)] : []));
}

/** The segments of a pattern that formatPattern wrote. */
export function parsePattern(pattern: string): Segment[] {
  return pattern
    .split("/")
    .filter(Boolean)
    .map((part): Segment => {
      if (!part.startsWith(":")) return { kind: "literal", value: part };
      return part.endsWith("*") ? { kind: "catchall", name: part.slice(1, -1) } : { kind: "param", name: part.slice(1) };
    });
}

const RANK = { literal: 0, param: 1, catchall: 2 } as const;

/**
 * Precedence, segment by segment: a literal, then [param], then
 * [[catchall]]; a route that ends here (/files) before a catch-all that could
 * also match it (/files/:path*). The router's walk tries children in this
 * order; the build sorts the route table with it.
 */
export function comparePatterns(a: Segment[], b: Segment[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const sa = a[i], sb = b[i];
    const d = RANK[sa.kind] - RANK[sb.kind];
    if (d) return d;
    if (sa.kind === "literal" && sb.kind === "literal" && sa.value !== sb.value) return sa.value < sb.value ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Whether a folder's _middleware runs for a route: the route file lies in that
 * folder or below it. [param] folders are one folder whatever the param's
 * name; a [[catchall]] file is in its parent folder, not in a [param] folder
 * beside it. The router's tree has the same shape.
 */
export function folderCovers(folder: Segment[], route: Segment[]): boolean {
  const inside = route[route.length - 1]?.kind === "catchall" ? route.slice(0, -1) : route;
  return (
    folder.length <= inside.length &&
    folder.every((s, i) => (s.kind === "literal" ? inside[i].kind === "literal" && (inside[i] as { value: string }).value === s.value : inside[i].kind === "param"))
  );
}
