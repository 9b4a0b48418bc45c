// The types a route file sees. Compatible with Pages Functions' EventContext.

type StripExtension<P extends string> = P extends `${infer R}.ts`
  ? R
  : P extends `${infer R}.mts`
    ? R
    : P extends `${infer R}.js`
      ? R
      : P extends `${infer R}.mjs`
        ? R
        : P;

type SegmentParams<S extends string> = S extends `[[${infer N}]]`
  ? { [K in N]: string[] }
  : S extends `[${infer N}]`
    ? { [K in N]: string }
    : {};

type PathParams<P extends string> = P extends `${infer Head}/${infer Rest}`
  ? SegmentParams<Head> & PathParams<Rest>
  : SegmentParams<P>;

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * The params of a route file, from its path under functions/:
 * `Params<"users/[id].ts">` is `{ id: string }`, `Params<"files/[[path]].ts">` is `{ path: string[] }`.
 */
export type Params<P extends string = string> = string extends P
  ? Record<string, string | string[]>
  : Flatten<PathParams<StripExtension<P>>>;

import type { Session } from "./session.js";

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface EventContext<Env = any, P extends string = string, Data = Record<string, unknown>> {
  request: Request;
  env: Env;
  /** URL-decoded path parameters; a [[catchall]] is a string[] ([] when empty). */
  params: Params<P>;
  /** Shared by every handler of this request's chain. */
  data: Data;
  /** The route pattern of the file running now, e.g. /users/:id. */
  functionPath: string;
  /** Runs the rest of the chain; past the last handler, the static assets. A new input keeps the method, headers and body unless `init` says otherwise. */
  next(input?: Request | string | URL, init?: RequestInit): Promise<Response>;
  waitUntil(promise: Promise<unknown>): void;
  /** On an uncaught error, answer from the static assets instead of a 500. */
  passThroughOnException(): void;
  /** The visitor's session, kept in KV (binding SESSIONS). See docs/sessions.md. */
  session: Session;
  /** Renders templates/NAME with `data` (plus `request`, and `flashes`) into an HTML Response. See docs/templates.md. */
  render(name: string, data?: Record<string, unknown>, init?: ResponseInit): Promise<Response>;
}

/**
 * A route handler. Give it the file's own path to type `params`:
 * `export const onRequestGet: Handler<"users/[id].ts", Env> = ({ params }) => ...`
 */
export type Handler<P extends string = string, Env = any, Data = Record<string, unknown>> = (
  context: EventContext<Env, P, Data>,
) => Response | Promise<Response>;
