// The Worker's fetch handler: match, run the chain, own the HTTP behaviour
// a route file should not have to write (HEAD, 405, OPTIONS, 400, 404, 500).
import { errorResponse, notFound } from "./errors.js";
import { BadPathError, createRouter, type Chain, type RouteEntry } from "./router.js";
import type { EventContext, ExecutionContextLike } from "./types.js";

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

type Env = { ASSETS?: AssetsBinding; DEBUG?: string | boolean } & Record<string, unknown>;

/** The part of request.url after the host and before the query: the URL is already normalised by the runtime. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query < 0 ? hash : hash < 0 ? query : Math.min(query, hash);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** `next(input, init)` builds the request for the rest of the chain; a bare URL keeps method, headers and body. */
function nextRequest(current: Request, input?: Request | string | URL, init?: RequestInit): Request {
  if (input === undefined) return init ? new Request(current, init) : current;
  const base = input instanceof Request ? input : new Request(new URL(String(input), current.url), current);
  return init ? new Request(base, init) : base;
}

async function fromAssets(request: Request, env: Env): Promise<Response> {
  const response = env.ASSETS ? await env.ASSETS.fetch(request) : undefined;
  return !response || response.status === 404 ? notFound(request) : response;
}

function endOfChain(chain: Chain, request: Request, env: Env): Promise<Response> | Response {
  if (chain.end === "assets") return fromAssets(request, env);
  const headers = { allow: chain.allow, "cache-control": "no-store" };
  if (chain.end === "options") return new Response(null, { status: 204, headers });
  return errorResponse(request, 405, "Method Not Allowed", undefined, headers);
}

export function createHandler(entries: RouteEntry[]) {
  const { match } = createRouter(entries);

  async function fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    let found;
    try {
      found = match(pathOf(request.url), request.method);
    } catch (err) {
      if (err instanceof BadPathError) return errorResponse(request, 400, "Bad Request: the path's percent-encoding is malformed");
      throw err;
    }
    const { chain, params } = found;
    const data = {};
    let passThrough = false;
    const step = (i: number, req: Request): Promise<Response> | Response => {
      const current = chain.steps[i];
      if (!current) return endOfChain(chain, req, env);
      const context: EventContext = {
        request: req,
        env,
        params,
        data,
        functionPath: current.path,
        next: async (input, init) => step(i + 1, nextRequest(req, input, init)),
        waitUntil: (promise) => ctx.waitUntil(promise),
        passThroughOnException: () => {
          passThrough = true;
        },
      };
      return current.run(context);
    };
    let response: Response;
    try {
      response = await step(0, request);
      if (!(response instanceof Response)) {
        throw new TypeError(`a handler for ${request.method} ${chain.steps[0]?.path ?? ""} returned ${typeof response}, not a Response`);
      }
    } catch (err) {
      console.error(err);
      if (passThrough) return fromAssets(request, env);
      const debug = env.DEBUG === true || env.DEBUG === "true";
      return errorResponse(request, 500, "Internal Server Error", debug ? err : undefined);
    }
    // HEAD answered by a GET handler (or by the assets): same status and headers, no body.
    if (request.method === "HEAD" && response.body) {
      response.body.cancel().catch(() => {});
      return new Response(null, response);
    }
    return response;
  }

  return { fetch };
}
