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
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Fields, FormOptions } from "./input.js";

/** What a reader returns: the schema's typed output, or the plain object when there is no schema. */
type Read<S, Plain> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Plain;

declare global {
  // Where `wrangler types` declares the app's bindings (worker-configuration.d.ts); empty until it does.
  namespace Cloudflare {
    interface Env {}
  }
}

/**
 * The app's bindings, as `wrangler types` generated them: the default `env` of
 * Handler, EventContext and the functions/_worker.ts handlers, so no file needs
 * a generic. `any` for an app without generated types, which compiles as before.
 */
export type AppEnv = [keyof Cloudflare.Env] extends [never] ? any : Cloudflare.Env;

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface EventContext<Env = AppEnv, P extends string = string, Data = Record<string, unknown>> {
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
  /** This request's Content-Security-Policy nonce, made on first read and added to the header: `<script nonce="${cspNonce}">`. See docs/security.md. */
  readonly cspNonce: string;
  /** Renders templates/NAME with `data` (plus `request`, and `flashes`) into an HTML Response. See docs/templates.md. */
  render(name: string, data?: Record<string, unknown>, init?: ResponseInit): Promise<Response>;
  /** As render, but the page goes out as it is rendered, a loop's rows in pieces of about 32 KB: for large pages, whose first rows then arrive before the last are rendered. No ETag. See docs/templates.md. */
  renderStream(name: string, data?: Record<string, unknown>, init?: ResponseInit): Promise<Response>;
  /** The posted form (urlencoded or multipart), validated by `schema` when given; bad input throws InputError (400, 403, 413, 415, 422). See docs/input.md. */
  form<S extends StandardSchemaV1 | undefined = undefined>(schema?: S, options?: FormOptions): Promise<Read<S, Fields>>;
  /** The JSON body, validated by `schema` when given; bad input throws InputError (400, 413, 415, 422). */
  json<S extends StandardSchemaV1 | undefined = undefined>(schema?: S): Promise<Read<S, unknown>>;
  /** The query string as Fields, validated by `schema` when given (422). */
  query<S extends StandardSchemaV1 | undefined = undefined>(schema?: S): Promise<Read<S, Fields>>;
}

/**
 * A route handler. Give it the file's own path to type `params`:
 * `export const onRequestGet: Handler<"users/[id].ts", Env> = ({ params }) => ...`
 */
export type Handler<P extends string = string, Env = AppEnv, Data = Record<string, unknown>> = (
  context: EventContext<Env, P, Data>,
) => Response | Promise<Response>;
