// What a visitor sends: `context.form()`, `context.json()`, `context.query()`.
// Each reads the body by its content type into a plain object and, given a
// Standard Schema (zod, valibot, arktype...), returns its typed output. Every
// bad body is the client's mistake and gets a 4xx from here, never a 500:
// malformed 400, wrong type 415, too large 413, failing the schema 422.
//
// The entry ships this module only to apps that read input (kiln build looks
// for form(, json(, query( and InputError under functions/), so an app that
// never reads a body does not parse these bytes at each cold start.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { ChainRun, InputSupport } from "./context.js";
import { errorResponse, NO_STORE, wantsJson } from "./errors.js";
import { hasSessionCookie } from "./session-cookie.js";
import { statusPage } from "./static-files.js";
import type { EventContext } from "./types.js";

/** Bytes a body may have when no `bodyLimit` is declared for the route. */
export const DEFAULT_BODY_LIMIT = 1_000_000;
/** Text fields a form may have, as body-parser's parameterLimit. */
export const DEFAULT_MAX_FIELDS = 1000;
/** Files a form may have. */
export const DEFAULT_MAX_FILES = 20;
/** The form field (or X-CSRF-Token header) that carries the session's CSRF token. */
export const CSRF_FIELD = "csrf_token";

/** A form or query string as a plain object: a repeated name gives an array, a file a `File`. */
export type Fields = { [name: string]: string | File | (string | File)[] };

export interface FormOptions {
  /** Largest file, in bytes (413 above it). Default: the route's body limit. */
  maxFileSize?: number;
  /** Most text fields (413 above it). Default: 1,000. */
  maxFields?: number;
  /** Most files (413 above it). Default: 20. */
  maxFiles?: number;
}

type Status = 400 | 403 | 413 | 415 | 422;
const BRAND = Symbol.for("kiln.InputError");

/**
 * A body the route cannot take. Uncaught, kiln answers it with its status:
 * JSON (`{ error, status, errors }`) to clients that ask for JSON, the app's
 * public/STATUS.html or plain text to the others. A route that shows its form
 * again catches it and renders `errors` (messages per field) beside the
 * fields, and `values` (what was sent, without files) in them.
 */
export class InputError extends Error {
  // instanceof holds across two copies of kiln in one bundle (the route's "kiln" and the entry's runtime, as in kiln's own tests).
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && (value as { [BRAND]?: boolean })[BRAND] === true;
  }
  readonly [BRAND] = true;
  constructor(
    readonly status: Status,
    message: string,
    readonly errors: Record<string, string[]> = {},
    readonly values: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "InputError";
  }

  /** The framework's answer when no handler caught it: JSON for clients that ask, else the app's error page or plain text. */
  kilnAnswer(request: Request, run: ChainRun): Promise<Response> | Response {
    const { status, message, errors } = this;
    if (request.method !== "HEAD" && wantsJson(request.headers.get("accept"))) {
      return Response.json({ error: message, status, ...(status === 422 ? { errors } : {}) }, { status, headers: NO_STORE });
    }
    const lines = Object.entries(errors).map(([field, messages]) => `${field || "(input)"}: ${messages.join("; ")}`);
    return statusPage(request, run.env, run.app.files, status) ?? errorResponse(request, status, [message, ...lines].join("\n"));
  }
}

const tooLarge = (what: string) => new InputError(413, `Payload Too Large: ${what}`);

/** The media type of a Content-Type header, lower case, without parameters; "" when there is none. */
function mediaType(header: string | null): string {
  return header === null ? "" : header.split(";", 1)[0].trim().toLowerCase();
}

// A request's body can be read once; a middleware and its route may both ask for it.
const reads = new WeakMap<Request, { kind: string; value: Promise<unknown> }>();

function once<T>(request: Request, kind: string, read: () => Promise<T>): Promise<T> {
  const done = reads.get(request);
  if (done && done.kind !== kind) throw new TypeError(`the request's body was read as ${done.kind} already`);
  if (done) return done.value as Promise<T>;
  if (request.bodyUsed) throw new TypeError("the request's body was read before context.form()/json(): read it one way only");
  const value = read();
  reads.set(request, { kind, value });
  return value;
}

const overLimit = (limit: number) => tooLarge(`the body is over ${limit} bytes`);
const cutOff = () => new InputError(400, "Bad Request: the body was cut off");

/** Refuses a body whose Content-Length is over the limit before reading a byte; true when the length is declared (and so enforced by the runtime). */
function declaredWithin(request: Request, limit: number): boolean {
  const length = request.headers.get("content-length");
  if (length === null) return false;
  if (Number(length) > limit) {
    request.body?.cancel().catch(() => {}); // never read: the runtime need not take in what is refused
    throw overLimit(limit);
  }
  return true;
}

/** The body's bytes: the runtime's own reader when Content-Length vouches for the size, else counted as they come. */
async function bytesOf(request: Request, limit: number): Promise<Uint8Array> {
  if (!declaredWithin(request, limit)) return readLimited(request, limit);
  try {
    return new Uint8Array(await request.arrayBuffer());
  } catch {
    throw cutOff();
  }
}

async function textOf(request: Request, limit: number): Promise<string> {
  if (!declaredWithin(request, limit)) return new TextDecoder().decode(await readLimited(request, limit));
  try {
    return await request.text();
  } catch {
    throw cutOff();
  }
}

/**
 * A body without Content-Length (chunked), refused with 413 after `limit + 1`
 * bytes, when the rest is cancelled unread. Hand-written because Request's
 * own readers (formData, json, arrayBuffer) take the whole body before
 * anything can count it.
 */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const stream = request.body;
  if (stream === null) return new Uint8Array(0);
  declaredWithin(request, limit);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw cutOff();
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw overLimit(limit);
    }
    chunks.push(chunk.value);
  }
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.byteLength) - c.byteLength);
  return all;
}

/** No body, or one of zero bytes: workerd gives a bodiless POST an empty stream, not null. */
async function isEmpty(request: Request, limit: number): Promise<boolean> {
  const length = request.headers.get("content-length");
  if (request.body === null || length === "0") return true;
  return length === null && (await readLimited(request, limit)).byteLength === 0;
}

function add(fields: Fields, name: string, value: string | File): void {
  const had = fields[name];
  if (had === undefined) fields[name] = value;
  else if (Array.isArray(had)) had.push(value);
  else fields[name] = [had, value];
}

/** Null-prototype, so a field named `__proto__` or `constructor` is just a field. */
const newFields = (): Fields => Object.create(null);

/** What the client named its file, without folders: never a path the app could be tricked into writing to. */
function safeFile(file: File): File {
  const name = file.name.split(/[\\/]/).pop()!.replace(/[\x00-\x1f\x7f]/g, "");
  const safe = name === "." || name === ".." ? "" : name;
  return safe === file.name ? file : new File([file], safe, { type: file.type, lastModified: file.lastModified });
}

/**
 * How many file inputs were left empty under each name: a browser sends them
 * as a part with filename="", which workerd's parser reads as "" text.
 */
function emptyFileInputs(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [line] of new TextDecoder().decode(bytes).matchAll(/content-disposition:[^\r\n]*;\s*filename=""[^\r\n]*/gi)) {
    const name = /;\s*name="([^"]*)"/i.exec(line)?.[1];
    if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Form entries into Fields, within the caps. A file input left empty is left out. */
function collect(entries: Iterable<[string, string | File]>, limits: Required<FormOptions>, emptyFiles?: Map<string, number>): Fields {
  const fields = newFields();
  let texts = 0, files = 0;
  for (const [name, value] of entries) {
    if (typeof value === "string") {
      const empty = value === "" && emptyFiles?.get(name);
      if (empty) {
        emptyFiles!.set(name, empty - 1);
        continue;
      }
      if (++texts > limits.maxFields) throw tooLarge(`more than ${limits.maxFields} fields`);
      add(fields, name, value);
    } else if (value.name !== "" || value.size > 0) {
      if (++files > limits.maxFiles) throw tooLarge(`more than ${limits.maxFiles} files`);
      if (value.size > limits.maxFileSize) throw tooLarge(`a file is over ${limits.maxFileSize} bytes`);
      add(fields, name, safeFile(value));
    }
  }
  return fields;
}

/** The route's body limit: its nearest `export const bodyLimit`, else the default. */
const limitOf = (run: ChainRun) => (run.chain.declared.bodyLimit as number | undefined) ?? DEFAULT_BODY_LIMIT;

async function parseForm(request: Request, limit: number, options: FormOptions): Promise<Fields> {
  const header = request.headers.get("content-type");
  const type = mediaType(header);
  const limits = { maxFileSize: limit, maxFields: DEFAULT_MAX_FIELDS, maxFiles: DEFAULT_MAX_FILES, ...options };
  if (type === "application/x-www-form-urlencoded") {
    return collect(new URLSearchParams(await textOf(request, limit)), limits);
  }
  if (type === "multipart/form-data") {
    const bytes = await bytesOf(request, limit);
    let form: FormData;
    try {
      // The platform's parser, on bytes already within the limit.
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": header! } }).formData();
    } catch {
      throw new InputError(400, "Bad Request: the body is not a valid multipart form");
    }
    const entries = [...(form as unknown as Iterable<[string, string | File]>)];
    return collect(entries, limits, entries.some(([, v]) => v === "") ? emptyFileInputs(bytes) : undefined);
  }
  // A post with no body at all (curl -X POST) is an empty form; a body of no declared type is not a form.
  if (type === "" && (await isEmpty(request, limit))) return newFields();
  throw new InputError(415, "Unsupported Media Type: expected a form (application/x-www-form-urlencoded or multipart/form-data)");
}

/**
 * The CSRF token, for browsers that do not say where a form comes from:
 * without Sec-Fetch-Site, csrf.ts judged the request by Origin alone, or not
 * at all. Only requests that carry a session can ride on it.
 */
async function checkToken(run: ChainRun, context: EventContext, fields: Fields): Promise<void> {
  const request = context.request;
  const method = request.method;
  if (method === "GET" || method === "HEAD" || method === "OPTIONS" || !run.chain.csrf || !run.app.sessions) return;
  const headers = request.headers;
  if (headers.get("sec-fetch-site") !== null || !hasSessionCookie(headers.get("cookie"))) return;
  const token = fields[CSRF_FIELD] ?? headers.get("x-csrf-token");
  if (!(await context.session.verifyCsrfToken(token))) throw new InputError(403, "Forbidden: missing or invalid CSRF token");
}

/** A Standard Schema's verdict: its output, or a 422 with the messages per field ("" for the whole input). */
export async function validate(schema: StandardSchemaV1 | undefined, value: unknown, values: () => Record<string, unknown>): Promise<unknown> {
  if (schema === undefined) return value;
  const standard = schema?.["~standard"];
  if (typeof standard?.validate !== "function") {
    throw new TypeError("the schema is not a Standard Schema (zod 3.24+, valibot 1+, arktype 2+ are)");
  }
  const result = await standard.validate(value);
  if (!result.issues) return result.value;
  const errors: Record<string, string[]> = {};
  for (const issue of result.issues) {
    const field = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    const list = (errors[field] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  throw new InputError(422, "Unprocessable Content: the input is not valid", errors, values());
}

/** What was sent, to fill the form again: text fields only. */
function textValues(fields: Fields): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name in fields) {
    const v = fields[name];
    const texts = Array.isArray(v) ? v.filter((x) => typeof x === "string") : typeof v === "string" ? v : undefined;
    if (texts !== undefined) Object.defineProperty(values, name, { value: texts, enumerable: true, writable: true, configurable: true });
  }
  return values;
}

async function readForm(run: ChainRun, context: EventContext, schema?: StandardSchemaV1, options: FormOptions = {}): Promise<unknown> {
  const fields = await once(context.request, "a form", async () => {
    const fields = await parseForm(context.request, limitOf(run), options);
    await checkToken(run, context, fields);
    delete fields[CSRF_FIELD];
    return fields;
  });
  return validate(schema, fields, () => textValues(fields));
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

async function readJson(run: ChainRun, context: EventContext, schema?: StandardSchemaV1): Promise<unknown> {
  const request = context.request;
  if (!JSON_TYPE.test(mediaType(request.headers.get("content-type")))) {
    throw new InputError(415, "Unsupported Media Type: expected application/json");
  }
  const value = await once(request, "JSON", async () => {
    const text = await textOf(request, limitOf(run));
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new InputError(400, text === "" ? "Bad Request: the body is empty, expected JSON" : "Bad Request: the body is not valid JSON");
    }
  });
  return validate(schema, value, () => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {}));
}

async function readQuery(_run: ChainRun, context: EventContext, schema?: StandardSchemaV1): Promise<unknown> {
  const fields = newFields();
  for (const [name, value] of new URL(context.request.url).searchParams) add(fields, name, value);
  return validate(schema, fields, () => textValues(fields));
}

/** What the entry hands to createHandler when the app reads input. */
export const input: InputSupport = { form: readForm, json: readJson, query: readQuery };
