// ETags and conditional GET (RFC 9110 §8.8, §13.1): the fetch handler gives
// them to every GET/HEAD response that may be stored, whichever code set its
// Cache-Control; cache.ts uses them for the edge cache and If-Match.
import { base64url } from "./base64url.js";
import { knownBody } from "./known-body.js";

/** ETags of an If-None-Match or If-Match header; `*` stays `*`. ETags may hold commas, so they are matched, not split. */
export function etagsOf(header: string): string[] {
  if (header.trim() === "*") return ["*"];
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/** RFC 9110 §8.8.3.2: weak comparison for If-None-Match. */
function noneMatch(header: string, etag: string | null): boolean {
  const tags = etagsOf(header);
  if (tags[0] === "*") return true;
  return etag !== null && tags.some((t) => opaque(t) === opaque(etag));
}

export function httpDate(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const KEPT_ON_304 = ["cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified", "x-kiln-cache"];

/** A 200 to a GET or HEAD, answered 304 when the client's copy is current. */
export function conditional(request: Request, response: Response): Response {
  if (response.status !== 200) return response;
  const inm = request.headers.get("if-none-match");
  let fresh = false;
  if (inm !== null) {
    fresh = noneMatch(inm, response.headers.get("etag"));
  } else {
    const since = httpDate(request.headers.get("if-modified-since"));
    const modified = httpDate(response.headers.get("last-modified"));
    fresh = since !== undefined && modified !== undefined && modified <= since;
  }
  if (!fresh) return response;
  response.body?.cancel().catch(() => {});
  const headers = new Headers();
  for (const name of KEPT_ON_304) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(null, { status: 304, headers });
}

const TICK = Symbol("tick");
const LIMIT = 1 << 20;

/**
 * The bytes of a body that is already in memory (a string, a buffer, a stream
 * whose chunks are queued), or undefined. A clone is read, never the body
 * itself, so a stream of any kind reaches the client as it was; and a body
 * that waits on I/O is never held back: a read that does not complete before
 * the next turn of the event loop ends the attempt.
 */
async function bytesInMemory(response: Response): Promise<Uint8Array | undefined> {
  const reader = response.clone().body!.getReader();
  const tick = new Promise<typeof TICK>((resolve) => setTimeout(resolve, 0, TICK));
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    // A stream that fails fails for the client as it would have without kiln.
    const next = await Promise.race([reader.read(), tick]).catch((): typeof TICK => TICK);
    if (next === TICK || size > LIMIT || !(next.done || next.value instanceof Uint8Array)) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.byteLength;
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

const encoder = new TextEncoder();

/**
 * The tags of the pages rendered last, by their text: a cacheable page is
 * mostly the same page again, and finding its text in a Map (one native
 * hash and compare) costs a fraction of SHA-256 and its trip through
 * crypto.subtle. Bounded in characters, oldest out first.
 */
const recentTags = new Map<string, string>();
const RECENT_CHARS = 1 << 20;
let recentChars = 0;

function remember(text: string, tag: string): string {
  if (text.length > RECENT_CHARS / 4) return tag;
  recentTags.set(text, tag);
  recentChars += text.length;
  for (const old of recentTags.keys()) {
    if (recentChars <= RECENT_CHARS) break;
    recentTags.delete(old);
    recentChars -= old.length;
  }
  return tag;
}

/** A strong ETag from the SHA-256 of the body. */
async function etagOf(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return `"${base64url(digest.subarray(0, 18))}"`;
}

/**
 * The response with a strong ETag when its body is in memory; otherwise the
 * same response, untouched. Its headers are copied only to add the tag (a
 * fetch() result's are read-only).
 */
export async function tagged(response: Response): Promise<Response> {
  const text = knownBody(response);
  if (text !== undefined) {
    // kiln made this Response from a string, with headers of its own: tag it in place.
    response.headers.set("etag", recentTags.get(text) ?? remember(text, await etagOf(encoder.encode(text))));
    return response;
  }
  const body = response.body;
  const bytes = body ? await bytesInMemory(response) : new Uint8Array(0);
  if (!bytes) return response;
  response.body?.cancel().catch(() => {});
  const out = new Response(body && (bytes as Uint8Array<ArrayBuffer>), response);
  out.headers.set("etag", await etagOf(bytes));
  return out;
}

const NO_STORE = /(?:^|[\s,])no-store(?:[\s,=]|$)/i;

/**
 * The last step of a GET or HEAD: a 2xx that may be stored (a Cache-Control
 * without no-store, whoever set it) gets an ETag, and a 304 when the client's
 * copy is current. Anything else costs one header read.
 */
export function validate(request: Request, response: Response): Response | Promise<Response> {
  const cc = response.headers.get("cache-control");
  if (cc === null || NO_STORE.test(cc)) return response;
  const status = response.status;
  if (status < 200 || status > 299 || status === 206) return response;
  // A HEAD handler's empty body is not the representation: nothing to hash.
  if (response.headers.has("etag") || (!response.body && request.method === "HEAD")) return conditional(request, response);
  return tagged(response).then((out) => conditional(request, out));
}
