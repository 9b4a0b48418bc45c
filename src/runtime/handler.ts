// The Worker's fetch handler: match, run the chain, own the HTTP behaviour
// a route file should not have to write (HEAD, 405, OPTIONS, 400, 404, 500).
// It stays synchronous while the handlers do: a Worker may return a Response
// or a Promise, and every await skipped is time saved on each request.
import { ChainRun, mutable, notAResponse, type AccessSupport, type AppParts, type InputSupport, type TemplateSupport } from "./context.js";
import type { CorsSupport } from "./cors.js";
import type { CsrfSupport } from "./csrf.js";
import { errorResponse, isDebug, type AnsweredError } from "./errors.js";
import { endOfChain, fromAssets, pathOf, staticFiles, statusPage, type StaticFilesInput, type StaticFilesParts } from "./static-files.js";
import { logError, logRate, logRequest, requestIdOf } from "./log.js";
import { BadPathError, createRouter, type Chain, type MiddlewarePart, type RoutePlan } from "./router.js";
import type { SecuritySupport } from "./security.js";
import type { SessionSupport } from "./session.js";
import type { ExecutionContextLike } from "./types.js";

type Env = { DEBUG?: string | boolean; KILN_LOG?: string } & Record<string, unknown>;

/** What the answer learnt on its way, for the steps after it (headers, the log line); only made when one of them runs. */
interface Seen {
  chain?: Chain;
  run?: ChainRun;
  requestId?: string;
  /** Server-Timing entries, collected only when DEBUG is on. */
  timings?: [string, number][];
}

/** HEAD answered by a GET handler (or by the assets): same status and headers, no body. `response` was checked to be a Response (notAResponse). */
function headless(method: string, response: Response): Response {
  if (method !== "HEAD" || !response.body) return response;
  response.body.cancel().catch(() => {});
  return new Response(null, response);
}

type Validate = (request: Request, response: Response, method: string) => Response | Promise<Response>;

/** The chain's answer to a GET or HEAD gets its ETag and 304 (etag.ts, when the app has it) before HEAD drops the body. */
function finish(validate: Validate | undefined, request: Request, method: string, response: Response): Response | Promise<Response> {
  if (!validate || (method !== "GET" && method !== "HEAD")) return headless(method, response);
  const out = validate(request, response, method);
  return out instanceof Response ? headless(method, out) : out.then((r) => headless(method, r));
}

function answerThrown(run: ChainRun, request: Request, err: unknown): Promise<Response> | Response {
  // No commit will run: a session lock is freed now, not when its lease runs out.
  if (run.session) run.ec.waitUntil(run.session.release());
  // An error that knows its answer: a body the route cannot take (input.ts, a 4xx), a store that failed (a 503); not logged as a failure here.
  const answered = (err as Partial<AnsweredError> | null)?.kilnAnswer;
  if (typeof answered === "function") return answered.call(err, request, run);
  const debug = isDebug(run.env);
  // Under wrangler dev, Miniflare logs the error with its stack mapped to the source files, and answers with its error page.
  if (debug && !run.passThrough && run.app.dev) return run.app.dev(err);
  if (run.requestId) logError(run.requestId, err);
  else console.error(err);
  if (run.passThrough) return fromAssets(request, run.env, run.app.files);
  return (!debug && statusPage(request, run.env, run.app.files, 500)) || errorResponse(request, 500, "Internal Server Error", debug ? err : undefined);
}

export interface AppOptions {
  /** What the build learnt about public/; without it every unmatched path asks env.ASSETS. */
  files?: StaticFilesInput;
  /** The _middleware files' steps and declarations (middleware.ts), passed in only when the app has a _middleware file. */
  middleware?: MiddlewarePart;
  /** Session support, passed in by the entry only when the app uses sessions, so other apps do not ship it. */
  sessions?: SessionSupport;
  /** Compiled templates/, passed in only when the app has them. */
  templates?: TemplateSupport;
  /** context.form/json/query (input.ts), passed in only when the app reads input. */
  input?: InputSupport;
  /** The cross-site check (csrf.ts), passed in when a file has a handler that may change something (onRequest, POST, PUT, PATCH, DELETE) or declares csrf. */
  csrf?: CsrfSupport;
  /** Folder listings, public/'s error pages and a single-page app's shell (static-files.ts), each passed in only when the app has it. */
  static?: StaticFilesParts;
  /** `access` declarations (auth.ts), passed in only when a file declares one. */
  access?: AccessSupport;
  /**
   * ETags and 304s for responses that may be stored (etag.ts `validate`), passed in when a file in
   * functions/ mentions Cache-Control or exports `cache`: reading a header of every response costs
   * workerd a trip into the runtime, so apps that never cache do not pay it.
   */
  validate?: Validate;
  /** Security headers and the CSP (security.ts), passed in when the app makes HTML or declares `headers` or `csp`. */
  security?: SecuritySupport;
  /** `cors` declarations (cors.ts), passed in only when a file declares one. */
  cors?: CorsSupport;
  /** A log line per request (log.ts) unless the KILN_LOG var says otherwise: the entry turns it on; a handler made by hand (a unit test) stays quiet. */
  log?: boolean;
  /** Built under wrangler dev: with DEBUG on, a thrown error goes to Miniflare's error page, its stack mapped to the source files (dev-errors.ts `devErrorResponse`). */
  dev?: (err: unknown) => Response;
}

/** The Worker's fetch, from the route plan `kiln build` writes into the entry (compiler/route-plan.ts). */
export function createHandler(plan: RoutePlan, options: AppOptions = {}) {
  const { match } = createRouter(plan, options.middleware);
  const entries = plan.entries;
  const files = staticFiles(options.files, options.static);
  const app: AppParts = { files, sessions: options.sessions, templates: options.templates, input: options.input, access: options.access, dev: options.dev };
  options.access?.validate(entries);
  options.security?.validate(entries);
  options.cors?.validate(entries);
  options.csrf?.validate(entries);
  const { validate, security, cors, csrf } = options;
  const logByDefault = options.log ?? false;

  function answer(request: Request, env: Env, ec: ExecutionContextLike, seen?: Seen): Promise<Response> | Response {
    const method = request.method;
    const path = pathOf(request.url);
    let found;
    try {
      found = match(path, method);
    } catch (err) {
      if (err instanceof BadPathError) return errorResponse(request, 400, "Bad Request: malformed path");
      throw err;
    }
    if (seen) seen.chain = found.chain;
    if (cors && found.chain.declared.cors !== undefined && method === "OPTIONS" && request.headers.has("access-control-request-method")) {
      return cors.preflight(request, found.chain.declared, found.chain.allow);
    }
    if (csrf && found.chain.csrf && csrf.refuses(request, method) && !cors?.allows(request, found.chain.declared)) return errorResponse(request, 403, "Forbidden: cross-site request");
    // Access is checked before any middleware runs, as the cross-site check is; it guards static files too.
    const rule = found.chain.declared.access;
    // Nothing to run (no route, no middleware, no access rule): straight to the assets or the 405.
    if (found.chain.steps.length === 0 && rule === undefined) return endOfChain(found.chain, request, env, files, path, method);
    const run = new ChainRun(found.chain, env, ec, found.params, app, request);
    if (seen) {
      (seen.run = run).requestId = seen.requestId;
      run.timings = seen.timings;
    }
    try {
      const result = rule === undefined ? run.step(0, request) : app.access!.guard(run, rule, request);
      if (result instanceof Response && !run.session) {
        const out = finish(validate, request, method, result);
        return out instanceof Response ? out : out.catch((err) => answerThrown(run, request, err));
      }
      // A response that touched the session is private, no-store: no ETag, no 304.
      return Promise.resolve(result)
        .then((answer) => {
          const response = answer instanceof Response ? answer : notAResponse(run.chain, 0, answer);
          return run.session ? run.session.commit(headless(method, response)) : finish(validate, request, method, response);
        })
        .catch((err) => answerThrown(run, request, err));
    } catch (err) {
      return answerThrown(run, request, err);
    }
  }

  /** The headers every answer gets (security, CORS), then the log line. */
  function after(request: Request, response: Response, seen: Seen, start: number): Response {
    const declared = seen.chain?.declared ?? {};
    let out = response;
    if (security) out = security.apply(out, declared, seen.run?.nonce, seen.chain?.pattern !== undefined);
    if (cors && declared.cors !== undefined) out = cors.apply(request, out, declared);
    if (seen.timings && out.status !== 101) {
      out = mutable(out);
      seen.timings.push(["total", Date.now() - start]);
      out.headers.set("server-timing", seen.timings.map(([name, ms]) => `${name};dur=${ms}`).join(", "));
    }
    if (seen.requestId) {
      out = mutable(out);
      if (out.status !== 101) out.headers.set("x-request-id", seen.requestId);
      logRequest({ method: request.method, path: pathOf(request.url), status: out.status, ms: Date.now() - start, requestId: seen.requestId, route: seen.chain?.pattern });
    }
    return out;
  }

  function fetch(request: Request, env: Env, ec: ExecutionContextLike): Promise<Response> | Response {
    const rate = logRate(env.KILN_LOG, logByDefault);
    const debug = isDebug(env);
    if (!security && !cors && rate === 0 && !debug) return answer(request, env, ec);
    const seen: Seen = { requestId: rate === 1 || Math.random() < rate ? requestIdOf(request) : undefined, timings: debug ? [] : undefined };
    const start = Date.now();
    const result = answer(request, env, ec, seen);
    return result instanceof Response ? after(request, result, seen, start) : result.then((r) => after(request, r, seen, start));
  }

  return { fetch };
}
