// The runtime of templates compiled by `kiln build`: escaping, filters,
// tests, loops, blocks, includes and macros. It compiles nothing: the
// templates arrive as functions (Workers forbid eval and new Function).
import { Context, type TemplateSupport } from "./context.js";
import type { EventContext } from "./types.js";
import { escapeHtml, HtmlString, htmlResponse } from "./html.js";
import { urlFor } from "./url-for.js";

export type Scope = Record<string, unknown>;
type Part = (c: Scope, r: RenderState) => string;
/** A part of a streamed render (template-stream.ts): yields its output in pieces. */
export type StreamPart = (c: Scope, r: RenderState) => Generator<string, void>;

export interface CompiledTemplate {
  parent: string | null;
  blocks: Record<string, Part>;
  /** The blocks that may write to their caller's scope (a {% set %}, a nested block, super()). */
  writes?: string[];
  body: Part;
  /** The same parts as generators, for renderStream: compiled only for apps that call it. */
  stream?: { blocks: Record<string, StreamPart>; body: StreamPart };
}

export type Templates = Record<string, CompiledTemplate>;

export interface RenderState {
  templates: Templates;
  /** block name → its definitions, the most derived template first */
  blocks: Record<string, Part[]>;
  /** The same for a streamed render. */
  streamBlocks?: Record<string, StreamPart[]>;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  return v instanceof HtmlString ? v.value : String(v);
}

function truthy(v: unknown): boolean {
  if (typeof v === "string" || Array.isArray(v)) return v.length > 0;
  if (v instanceof HtmlString) return v.value.length > 0;
  if (isPlain(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (v instanceof Map) return [...v.entries()];
  if (isPlain(v)) return Object.keys(v);
  if (typeof (v as Iterable<unknown>)[Symbol.iterator] === "function") return [...(v as Iterable<unknown>)];
  throw new TypeError(`cannot loop over ${typeof v}`);
}

/** Jinja's dict methods on plain objects, so `for k, v in d.items()` works. */
const DICT: Record<string, (d: object) => unknown[]> = { items: Object.entries, keys: Object.keys, values: Object.values };

const PROTO = Object.prototype as unknown as Record<string, unknown>;

/** `a[b]`, and `a.b` where b is a name every object inherits: data wins, and nothing comes from Object.prototype. */
function get(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  const o = obj as Record<string, unknown>;
  const k = key as string;
  if (Object.hasOwn(o, k)) return o[k];
  if (typeof key === "number" && key < 0 && Array.isArray(obj)) return obj[obj.length + key];
  if (isPlain(obj) || k === "constructor" || k === "__proto__") return undefined;
  const value = o[k];
  if (value === PROTO[k]) return undefined;
  return typeof value === "function" ? value.bind(obj) : value;
}

export const safe = (s: string) => new HtmlString(s);

/** Each template's blocks with those of the templates it extends, the most derived first; made once. */
const chains = new WeakMap<CompiledTemplate, Record<string, Part[]>>();
/** The block functions named in their template's `writes`. */
const writing = new WeakSet<Part>();

export function blocksOf<P>(templates: Templates, template: CompiledTemplate, made: WeakMap<CompiledTemplate, Record<string, P[]>>, own: (t: CompiledTemplate) => Record<string, P>): Record<string, P[]> {
  let blocks = made.get(template);
  if (!blocks) {
    blocks = Object.create(null) as Record<string, P[]>; // a block may be called "constructor"
    for (let t: CompiledTemplate | undefined = template; t; t = t.parent ? templates[t.parent] : undefined) {
      for (const [k, part] of Object.entries(own(t))) {
        (blocks[k] ??= []).push(part);
        if (t.writes?.includes(k)) writing.add(part as Part);
      }
    }
    made.set(template, blocks);
  }
  return blocks;
}

export function templateNamed(templates: Templates, name: string): CompiledTemplate {
  const template = templates[name];
  if (!template) throw new Error(`no template "${name}" in templates/`);
  return template;
}

/** The block functions of a template and those it extends: what render calls, and what a streamed render's super() calls. */
export const functionBlocks = (templates: Templates, template: CompiledTemplate) => blocksOf(templates, template, chains, (t) => t.blocks);

function renderWith(templates: Templates, name: string, c: Scope): string {
  const template = templateNamed(templates, name);
  return template.body(c, { templates, blocks: functionBlocks(templates, template) });
}

/**
 * The scope a block runs in: its caller's, or, for a block that calls super()
 * (and only for it), a scope of its own that holds `super`, the next definition
 * of the block up the chain, as a value. render's and a streamed render's.
 */
export function blockScope(part: Part | StreamPart, r: RenderState, name: string, c: Scope, level: number): Scope {
  if (!(part as { sup?: boolean }).sup) return c;
  const scope = Object.create(c);
  scope.super = () => safe(rt.block(r, name, c, level + 1));
  return scope;
}

const MACRO = Symbol("macro");

/** Macros may call themselves, as in Jinja; this many nested calls end the render before the stack does. */
const MACRO_DEPTH = 100;
/** Macro calls in progress. Rendering is synchronous, so one count serves the isolate. */
let depth = 0;

/** `loop` inside {% for %}; made only for loops whose body reads it. */
class Loop {
  constructor(
    readonly index0: number,
    private readonly items: unknown[],
  ) {}
  get index() {
    return this.index0 + 1;
  }
  get length() {
    return this.items.length;
  }
  get revindex() {
    return this.items.length - this.index0;
  }
  get revindex0() {
    return this.items.length - this.index0 - 1;
  }
  get first() {
    return this.index0 === 0;
  }
  get last() {
    return this.index0 === this.items.length - 1;
  }
  get previtem() {
    return this.items[this.index0 - 1];
  }
  get nextitem() {
    return this.items[this.index0 + 1];
  }
  cycle(...values: unknown[]) {
    return values[this.index0 % values.length];
  }
}

const JSON_UNSAFE: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027" };

export const filters: Record<string, (...args: any[]) => unknown> = {
  default: (v, fallback = "", boolean = false) => (v === undefined || (boolean && !truthy(v)) ? fallback : v),
  length: (v) => (typeof v === "string" || Array.isArray(v) ? v.length : isPlain(v) ? Object.keys(v).length : list(v).length),
  join: (v, sep = "") => {
    const items = list(v);
    return items.every((i) => i instanceof HtmlString)
      ? safe(items.map(str).join(escapeHtml(sep)))
      : items.map((i) => (i instanceof HtmlString ? i.value : str(i))).join(str(sep));
  },
  upper: (v) => str(v).toUpperCase(),
  lower: (v) => str(v).toLowerCase(),
  title: (v) => str(v).replace(/\w\S*/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase()),
  capitalize: (v) => (s => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase())(str(v)),
  trim: (v) => str(v).trim(),
  truncate: (v, length = 255, killwords = false, end = "...", leeway = 5) => {
    const s = str(v);
    if (s.length <= length + leeway) return s;
    const cut = s.slice(0, Math.max(0, length - end.length));
    return (killwords ? cut : cut.replace(/\s+\S*$/, "") || cut) + end;
  },
  replace: (v, old, replacement, count) => {
    let s = str(v);
    let n = count ?? Infinity;
    let at = 0;
    while (n-- > 0 && old !== "") {
      const i = s.indexOf(old, at);
      if (i < 0) break;
      s = s.slice(0, i) + replacement + s.slice(i + old.length);
      at = i + str(replacement).length;
    }
    return s;
  },
  first: (v) => list(v)[0],
  last: (v) => list(v).at(-1),
  round: (v, precision = 0, method = "common") => {
    const f = 10 ** precision;
    const fn = method === "ceil" ? Math.ceil : method === "floor" ? Math.floor : Math.round;
    return fn(Number(v) * f) / f;
  },
  int: (v, fallback = 0) => {
    const n = parseInt(str(v), 10);
    return Number.isNaN(n) ? fallback : n;
  },
  float: (v, fallback = 0) => {
    const n = parseFloat(str(v));
    return Number.isNaN(n) ? fallback : n;
  },
  abs: (v) => Math.abs(Number(v)),
  reverse: (v) => (typeof v === "string" ? [...v].reverse().join("") : [...list(v)].reverse()),
  sort: (v) => [...list(v)].sort(),
  list,
  urlencode: (v) =>
    isPlain(v)
      ? Object.entries(v).map(([k, x]) => `${encodeURIComponent(k)}=${encodeURIComponent(str(x))}`).join("&")
      : encodeURIComponent(str(v)),
  tojson: (v) => safe(JSON.stringify(v ?? null).replace(/[<>&']/g, (c) => JSON_UNSAFE[c])),
  escape: (v) => (v instanceof HtmlString ? v : safe(escapeHtml(str(v)))),
  e: (v) => (v instanceof HtmlString ? v : safe(escapeHtml(str(v)))),
  safe: (v) => (v instanceof HtmlString ? v : safe(str(v))),
};

export const tests: Record<string, (v: unknown, arg?: unknown) => boolean> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  number: (v) => typeof v === "number",
  string: (v) => typeof v === "string",
  mapping: (v) => isPlain(v),
  iterable: (v) => typeof v === "string" || Array.isArray(v) || isPlain(v),
  even: (v) => Number(v) % 2 === 0,
  odd: (v) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v, n) => Number(v) % Number(n) === 0,
  sameas: (v, other) => v === other,
  true: (v) => v === true,
  false: (v) => v === false,
};

/** What compiled templates call; the names are kept short in the generated code. */
export const rt = {
  out: (v: unknown) => (v instanceof HtmlString ? v.value : escapeHtml(str(v))),
  /** {{ output }}: strings and numbers, nearly every value, take the short way. */
  o: (v: unknown): string => (typeof v === "string" ? escapeHtml(v) : typeof v === "number" ? "" + v : rt.out(v)),
  /** {{ output }} in a quoted attribute value: safe HTML too must not end the value there (tojson's quotes); the browser decodes them back. */
  a: (v: unknown): string => (v instanceof HtmlString ? v.value.replace(/"/g, "&quot;").replace(/'/g, "&#39;") : rt.o(v)),
  str,
  truthy,
  list,
  get,
  filters,
  tests,
  or: (a: unknown, b: () => unknown) => (truthy(a) ? a : b()),
  and: (a: unknown, b: () => unknown) => (truthy(a) ? b() : a),
  contains(container: unknown, item: unknown): boolean {
    if (typeof container === "string") return container.includes(str(item));
    if (Array.isArray(container)) return container.includes(item);
    if (container instanceof Map || container instanceof Set) return container.has(item);
    if (isPlain(container)) return Object.hasOwn(container, str(item));
    return false;
  },
  method(obj: unknown, name: string | number, args: unknown[], named: Record<string, unknown>): unknown {
    const fn = get(obj, name);
    // d.items() is Jinja's dict method, also for data that has an "items" of its own.
    if (typeof fn !== "function" && Object.hasOwn(DICT, name) && isPlain(obj)) return DICT[name](obj);
    return rt.call(fn, args, named);
  },
  call(fn: unknown, args: unknown[], named: Record<string, unknown>): unknown {
    if (typeof fn !== "function") throw new TypeError(`${String(fn)} is not callable`);
    if ((fn as { [MACRO]?: boolean })[MACRO]) return fn(args, named);
    return Object.keys(named).length ? fn(...args, named) : fn(...args);
  },
  loop: (i: number, items: unknown[]) => new Loop(i, items),
  block(r: RenderState, name: string, c: Scope, level = 0): string {
    const part = r.blocks[name]?.[level];
    if (!part) return "";
    return part(blockScope(part, r, name, c, level), r);
  },
  /** Marks a block that calls super(). */
  sup: <P extends Part | StreamPart>(part: P) => Object.assign(part, { sup: true }),
  /**
   * A block in a template that extends another: the parent renders it where it
   * stands, so here it runs only when it may write to the scope the parent then
   * sees; rendering every block twice was the cost of every layout.
   */
  dropped(r: RenderState, name: string, c: Scope): void {
    const part = r.blocks[name]?.[0];
    if (part && writing.has(part)) rt.block(r, name, c);
  },
  extend: (r: RenderState, parent: string, c: Scope) => r.templates[parent].body(c, r),
  include: (r: RenderState, name: string, c: Scope) => renderWith(r.templates, name, Object.create(c)),
  /** {% import "x" as m %}: the macros and variables that "x" defines at its top level. */
  imports(r: RenderState, name: string): Scope {
    const scope: Scope = Object.create(globals);
    r.templates[name].body(scope, { templates: r.templates, blocks: {} });
    return { ...scope };
  },
  macro(defined: Scope, r: RenderState, body: Part, params: [string, ((c: Scope) => unknown)?][], name: string) {
    const macro = (args: unknown[], named: Record<string, unknown>) => {
      if (depth >= MACRO_DEPTH) throw new Error(`macro "${name}" nested more than ${MACRO_DEPTH} calls deep`);
      const scope: Scope = Object.create(defined);
      params.forEach(([param, fallback], i) => {
        scope[param] = i < args.length ? args[i] : Object.hasOwn(named, param) ? named[param] : fallback?.(scope);
      });
      scope.varargs = args.slice(params.length);
      depth++;
      try {
        return safe(body(scope, r));
      } finally {
        depth--;
      }
    };
    return Object.assign(macro, { [MACRO]: true });
  },
};

/** Names every template sees. */
const globals: Scope = Object.assign(Object.create(null), {
  url_for: urlFor,
  range: (a: number, b?: number, step = 1) => {
    const [start, stop] = b === undefined ? [0, a] : [a, b];
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  },
});

/** The request whose template is rendering now: rendering is synchronous, so one at a time. */
let rendering: { cspNonce: string } | undefined;

/**
 * Between the globals and each render's variables. `csp_nonce` is made on first
 * read (a page without inline scripts costs no random bytes, and its CSP names
 * no nonce); a getter here, shared, keeps each render's scope a plain object,
 * where one defined per render made every variable lookup slower.
 */
const requestScope: Scope = Object.create(globals, { csp_nonce: { get: () => rendering?.cspNonce, enumerable: true } });

/**
 * A template's text, for what is not an answer to a request (an email body in
 * a queue consumer, through the tools functions/_worker.ts handlers get): no
 * `request`, no `flashes`.
 */
export function renderText(templates: Templates, name: string, data: Record<string, unknown> = {}): string {
  return renderWith(templates, name, Object.assign(Object.create(globals), data));
}

/** renderStream's Response (template-stream.ts), given what render would render and how to run a step of it as this request's. */
export type Streamed = (templates: Templates, name: string, vars: Scope, init: ResponseInit, asRendering: <T>(step: () => T) => T) => Response;

/**
 * `context.render(name, data?, init?)` for an app's compiled templates: an
 * HTML Response. The entry passes it to createHandler only for apps with
 * templates/, so other apps do not ship the template runtime. Templates see
 * `request`, `csp_nonce` (this request's CSP nonce, made when read), `url_for`,
 * and `flashes` (the session's flash messages, read once) when
 * they read it: `withFlashes` lists them, so the others cost no KV read.
 * `streamed` (template-stream.ts) comes only for apps that call renderStream.
 */
export function templateSupport(templates: Templates, withFlashes: string[], streamed?: Streamed): TemplateSupport {
  /** What a template sees besides `data`. */
  async function scopeFor(context: EventContext, name: string, data: Record<string, unknown>): Promise<Scope> {
    const vars: Record<string, unknown> = Object.assign(Object.create(requestScope), data);
    vars.request = context.request;
    if (withFlashes.includes(name)) {
      let flashes: Record<string, unknown> = {};
      try {
        flashes = await context.session.flashes();
      } catch {
        // sessions are off: no flash messages
      }
      vars.flashes = flashes;
    }
    return vars;
  }
  /** Runs `step` with `csp_nonce` reading this request's nonce. */
  function asRendering<T>(context: EventContext, step: () => T): T {
    rendering = context;
    try {
      return step();
    } finally {
      rendering = undefined;
    }
  }
  return {
    async render(context, name, data = {}, init = {}) {
      const start = Date.now();
      const vars = await scopeFor(context, name, data);
      const response = htmlResponse(asRendering(context, () => renderWith(templates, name, vars)), init);
      Context.time(context, "render", Date.now() - start);
      return response;
    },
    async renderStream(context, name, data = {}, init = {}) {
      // The scan reads functions/ only: a call from a helper elsewhere leaves the templates without their generators.
      if (!streamed) throw new Error("context.renderStream: kiln build saw no renderStream in functions/, so the templates were built without their streamed form; name it in a file in functions/ (see docs/templates.md)");
      return streamed(templates, name, await scopeFor(context, name, data), init, (step) => asRendering(context, step));
    },
  };
}
