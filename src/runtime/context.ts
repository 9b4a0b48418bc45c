// The `context` each handler gets. One small object per handler that runs:
// what a handler may never read (next, waitUntil, data, ...) is made on first
// read by a getter, so a handler that only answers costs one allocation.
import { knownBody } from "./known-body.js";
import { endOfChain, type StaticFiles } from "./static-files.js";
import type { Chain, RouteEntry } from "./router.js";
import type { Session, SessionSupport } from "./session.js";
import type { EventContext, ExecutionContextLike } from "./types.js";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { FormOptions } from "./input.js";

/** Renders templates/ into Responses (template.ts); the entry passes it in only when the app has templates. */
export interface TemplateSupport {
  render(context: EventContext, name: string, data?: Record<string, unknown>, init?: ResponseInit): Promise<Response>;
  /** Streams only when a file in functions/ names renderStream (the templates carry their generators then); otherwise throws, saying so. */
  renderStream(context: EventContext, name: string, data?: Record<string, unknown>, init?: ResponseInit): Promise<Response>;
}

/** Checks `access` declarations (auth.ts); the entry passes it in only when a file declares one. */
export interface AccessSupport {
  /** At start-up: a declared value that is not a rule stops the Worker with the route's name. */
  validate(entries: RouteEntry[]): void;
  /** Runs the chain when the visitor may; else 303 to the login page, 401 or 403. */
  guard(run: ChainRun, rule: unknown, request: Request): Promise<Response>;
}

/** Reads what the visitor sent (input.ts); the entry passes it in only when the app reads input. */
export interface InputSupport {
  form(run: ChainRun, context: EventContext, schema?: StandardSchemaV1, options?: FormOptions): Promise<unknown>;
  json(run: ChainRun, context: EventContext, schema?: StandardSchemaV1): Promise<unknown>;
  query(run: ChainRun, context: EventContext, schema?: StandardSchemaV1): Promise<unknown>;
}

/** What the app brings to every request, set up once by createHandler. The optional parts are there only when the build saw a use for them. */
export interface AppParts {
  /** What the build learnt about public/. */
  files: StaticFiles;
  sessions: SessionSupport | undefined;
  templates: TemplateSupport | undefined;
  access?: AccessSupport;
  input?: InputSupport;
  /** The answer to a thrown error under wrangler dev with DEBUG on (dev-errors.ts). */
  dev?: (err: unknown) => Response;
}

/** What the handlers of one request share. */
export class ChainRun {
  data: Record<string, unknown> | undefined;
  passThrough = false;
  session: Session | undefined;
  /** The CSP nonce, made when a template or handler first asks for it; the header names it then. */
  nonce: string | undefined;
  /** Set when this request is logged: errors are logged with it. */
  requestId: string | undefined;
  /** Server-Timing entries (name, ms), collected only when DEBUG is on. */
  timings: [string, number][] | undefined;
  constructor(
    readonly chain: Chain,
    readonly env: Record<string, unknown>,
    readonly ec: ExecutionContextLike,
    readonly params: Record<string, string | string[]>,
    readonly app: AppParts,
    readonly request: Request,
  ) {}

  step(i: number, request: Request): Promise<Response> | Response {
    const step = this.chain.steps[i];
    return step ? step.run(new Context(this, i, request) as unknown as EventContext) : endOfChain(this.chain, request, this.env, this.app.files);
  }
}

/** A handler answered with something that is not a Response: name its file, export and route. */
export function notAResponse(chain: Chain, i: number, value: unknown): never {
  const step = chain.steps[i];
  const where = step?.file ? `functions/${step.file}` : `the file of ${step?.path ?? chain.pattern}`;
  const route = chain.pattern ? `route ${chain.pattern}` : `no route, under ${step?.path}`;
  const got = value === null ? "null" : typeof value === "object" ? `an object (${Object.prototype.toString.call(value).slice(8, -1)})` : typeof value;
  const hint = value === undefined ? ": did it forget to return?" : "";
  throw new TypeError(`${where}: ${step?.name ?? "a handler"} returned ${got}, not a Response (${route})${hint}`);
}

/** A fresh CSP nonce: 16 random bytes in base64, as CSP's nonce grammar spells them. */
function newNonce(): string {
  let s = "";
  for (const b of crypto.getRandomValues(new Uint8Array(16))) s += String.fromCharCode(b);
  return btoa(s);
}

/** `next(input, init)` builds the request for the rest of the chain; a bare URL keeps method, headers and body. */
function nextRequest(current: Request, input?: Request | string | URL, init?: RequestInit): Request {
  if (input === undefined) return init ? new Request(current, init) : current;
  const base = input instanceof Request ? input : new Request(new URL(String(input), current.url), current);
  return init ? new Request(base, init) : base;
}

/**
 * Pages gives a middleware a `next()` result whose headers it may change. A
 * response from the static files or from fetch() has read-only headers; only
 * those are re-wrapped, which moves the body stream without copying it.
 */
export function mutable(response: Response): Response {
  // One made by kiln from a string (htmlResponse, render) has headers of its own: no need to ask the runtime.
  if (!(response instanceof Response) || response.status === 101 || knownBody(response) !== undefined) return response;
  try {
    response.headers.delete("x-kiln-unset"); // throws only when the headers are read-only
    return response;
  } catch {
    return new Response(response.body, response);
  }
}

export class Context {
  readonly #run: ChainRun;
  readonly #i: number;
  /** Whether a handler of this request opened the session: then its answer is this visitor's own. */
  static usedSession(context: unknown): boolean {
    return context instanceof Context && context.#run.session !== undefined;
  }
  /** Adds a phase to the Server-Timing header of a request in DEBUG mode (template.ts times its render). */
  static time(context: unknown, name: string, ms: number): void {
    if (context instanceof Context) context.#run.timings?.push([name, ms]);
  }
  constructor(run: ChainRun, i: number, readonly request: Request) {
    this.#run = run;
    this.#i = i;
  }
  get env() {
    return this.#run.env;
  }
  get params() {
    return this.#run.params;
  }
  get data() {
    return (this.#run.data ??= {});
  }
  set data(value: Record<string, unknown>) {
    // As in Pages: data is shared by the whole chain, so a handler may replace it only with another object.
    if (typeof value !== "object" || value === null) throw new TypeError("context.data must be an object");
    this.#run.data = value;
  }
  get functionPath() {
    return this.#run.chain.steps[this.#i].path;
  }
  get next() {
    const run = this.#run, i = this.#i + 1, request = this.request;
    return async (input?: Request | string | URL, init?: RequestInit) => {
      const response = await run.step(i, nextRequest(request, input, init));
      // Checked here, where the middleware gets it: else its next().headers fails with no word of the handler.
      return mutable(response instanceof Response ? response : notAResponse(run.chain, i, response));
    };
  }
  get waitUntil() {
    const ec = this.#run.ec;
    return (promise: Promise<unknown>) => ec.waitUntil(promise);
  }
  get session(): Session {
    const run = this.#run;
    const sessions = run.app.sessions;
    if (!sessions) {
      // kiln build turns sessions on when a file in functions/ mentions `session` or wrangler.toml binds SESSIONS.
      throw new Error("sessions are off: see docs/sessions.md");
    }
    return (run.session ??= sessions.open(run.request, run.env));
  }
  get render() {
    return this.#templates("render");
  }
  get renderStream() {
    return this.#templates("renderStream");
  }
  #templates(how: "render" | "renderStream") {
    const templates = this.#run.app.templates;
    if (!templates) throw new Error(`context.${how} needs a templates/ folder next to functions/: see docs/templates.md`);
    return (name: string, data?: Record<string, unknown>, init?: ResponseInit) => templates[how](this as unknown as EventContext, name, data, init);
  }
  get form() {
    const input = this.#input(), run = this.#run;
    return (schema?: StandardSchemaV1, options?: FormOptions) => input.form(run, this as unknown as EventContext, schema, options);
  }
  get json() {
    const input = this.#input(), run = this.#run;
    return (schema?: StandardSchemaV1) => input.json(run, this as unknown as EventContext, schema);
  }
  get query() {
    const input = this.#input(), run = this.#run;
    return (schema?: StandardSchemaV1) => input.query(run, this as unknown as EventContext, schema);
  }
  #input(): InputSupport {
    const input = this.#run.app.input;
    // kiln build ships input support when a file in functions/ calls form(, json( or query(.
    if (!input) throw new Error("input reading is off: see docs/input.md");
    return input;
  }
  /** This request's CSP nonce (security.ts adds it to the header): put it on the inline scripts and styles you trust. */
  get cspNonce(): string {
    return (this.#run.nonce ??= newNonce());
  }
  get passThroughOnException() {
    const run = this.#run;
    return () => {
      run.passThrough = true;
    };
  }
}
