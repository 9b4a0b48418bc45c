// Turns a file path under functions/ into the route it serves.
// `users/[id].ts` → /users/:id, `files/[[path]].ts` → /files/:path*,
// `about/index.ts` → /about, `api/_middleware.ts` → middleware for /api.

import type { Segment } from "../runtime/routing.js";

export { formatPattern, type Segment } from "../runtime/routing.js";

export interface RoutePath {
  /** The file, relative to functions/, with forward slashes. */
  file: string;
  segments: Segment[];
  /** `_middleware` files guard every request under their folder. */
  middleware: boolean;
}

export const ROUTE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];

/** functions/_worker.ts (or .mts, .js, .mjs): the Worker's exports besides fetch (compiler/worker.ts), never a route. */
export const WORKER_FILES = ROUTE_EXTENSIONS.map((ext) => `_worker${ext}`);

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class RoutePathError extends Error {}

export function stripExtension(file: string): string {
  const ext = ROUTE_EXTENSIONS.find((e) => file.endsWith(e));
  return ext ? file.slice(0, -ext.length) : file;
}

export function parseRoutePath(file: string): RoutePath {
  const parts = stripExtension(file).split("/");
  const last = parts[parts.length - 1];
  const middleware = last === "_middleware";
  if (middleware || last === "index") parts.pop();

  const segments: Segment[] = [];
  const seen = new Set<string>();
  parts.forEach((part, i) => {
    const segment = parseSegment(part, file);
    if (segment.kind !== "literal") {
      if (seen.has(segment.name)) {
        throw new RoutePathError(`parameter "${segment.name}" appears twice in the path`);
      }
      seen.add(segment.name);
    }
    if (segment.kind === "catchall" && (i < parts.length - 1 || middleware)) {
      throw new RoutePathError(
        `a catch-all [[${segment.name}]] must be the last part of a route file's name, not a folder`,
      );
    }
    segments.push(segment);
  });
  return { file, segments, middleware };
}

function parseSegment(part: string, file: string): Segment {
  const catchall = /^\[\[(.*)\]\]$/.exec(part);
  const param = catchall ? null : /^\[(.*)\]$/.exec(part);
  const name = (catchall ?? param)?.[1];
  if (name !== undefined) {
    if (!PARAM_NAME.test(name)) {
      throw new RoutePathError(
        `bad parameter name "${part}": use letters, digits and _ (not starting with a digit), as in [id] or [[path]]`,
      );
    }
    return catchall ? { kind: "catchall", name } : { kind: "param", name };
  }
  if (part.includes("[") || part.includes("]")) {
    throw new RoutePathError(
      `"${part}" mixes text and brackets: a parameter must be a whole file or folder name, as in [id].ts`,
    );
  }
  if (part === "") throw new RoutePathError(`empty path segment in "${file}"`);
  if (part.startsWith(":") || part.endsWith("*")) {
    throw new RoutePathError(`"${part}": a file or folder name may not start with ":" or end with "*"`);
  }
  return { kind: "literal", value: part };
}

/** Two routes with the same shape serve the same URLs, whatever their parameters are called. */
export function routeShape(segments: Segment[]): string {
  return segments.map((s) => (s.kind === "literal" ? `=${s.value}` : s.kind === "param" ? ":" : "*")).join("/");
}
