// ETags and conditional GET (RFC 9110 §8.8, §13.1): the fetch handler gives
// them to every GET/HEAD response that may be stored, whichever code set its
// Cache-Control; cache.ts uses them for the edge cache and If-Match.
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
  const asked = request.headers;
  const inm = asked.get("if-none-match");
  let fresh = false;
  if (inm !== null) {
    fresh = noneMatch(inm, response.headers.get("etag"));
  } else {
    const since = httpDate(asked.get("if-modified-since"));
    const modified = since === undefined ? undefined : httpDate(response.headers.get("last-modified"));
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

const C1 = 0x239b961b, C2 = 0xab0e9789, C3 = 0x38b34ae5, C4 = 0xa1e38b93;
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const fmix = (h: number) => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
};

/**
 * A strong ETag: MurmurHash3 x86_128 of the body's bytes (the 16 bytes of the
 * hash, then the length's low 2), in 24 base64url characters. An ETag only has
 * to change when one URL's body changes, so a hash without a cryptographic
 * purpose serves: synchronous and in JavaScript, it costs a fraction of SHA-256
 * through crypto.subtle (docs/caching.md). `bytes` starts at a multiple of 4.
 */
function etagOf(bytes: Uint8Array, length = bytes.length): string {
  let h1 = 0, h2 = 0, h3 = 0, h4 = 0;
  const blocks = length >>> 4;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, blocks * 4);
  for (let i = 0; i < words.length; i += 4) {
    h1 ^= Math.imul(rotl(Math.imul(words[i], C1), 15), C2);
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    h2 ^= Math.imul(rotl(Math.imul(words[i + 1], C2), 16), C3);
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    h3 ^= Math.imul(rotl(Math.imul(words[i + 2], C3), 17), C4);
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    h4 ^= Math.imul(rotl(Math.imul(words[i + 3], C4), 18), C1);
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const tail = [0, 0, 0, 0];
  for (let i = blocks * 16; i < length; i++) tail[(i >> 2) & 3] |= bytes[i] << ((i & 3) * 8);
  h1 ^= Math.imul(rotl(Math.imul(tail[0], C1), 15), C2) ^ length;
  h2 ^= Math.imul(rotl(Math.imul(tail[1], C2), 16), C3) ^ length;
  h3 ^= Math.imul(rotl(Math.imul(tail[2], C3), 17), C4) ^ length;
  h4 ^= Math.imul(rotl(Math.imul(tail[3], C4), 18), C1) ^ length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = fmix((h2 + h1) | 0);
  h3 = fmix((h3 + h1) | 0);
  h4 = fmix((h4 + h1) | 0);
  h1 = fmix(h1);
  h1 = (h1 + h2 + h3 + h4) | 0;
  const bytes18 = new Uint8Array(new Uint32Array([h1, h2 + h1, h3 + h1, h4 + h1, length & 0xffff]).buffer, 0, 18);
  // 18 bytes are 24 base64url characters exactly, without padding: no btoa and no replace() for + / =.
  let tag = '"';
  for (let i = 0; i < 18; i += 3) {
    const n = (bytes18[i] << 16) | (bytes18[i + 1] << 8) | bytes18[i + 2];
    tag += B64[n >>> 18] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + B64[n & 63];
  }
  return tag + '"';
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Where a page's text is encoded to be hashed: kept between requests, so a page costs no new buffer. */
let scratch = new Uint8Array(1 << 15);

/**
 * The page tagged last and its tag: a cacheable page is mostly the same page
 * again. === against one page costs a length check, or a compare that stops
 * at the first difference. A Map of the recent pages' tags (before) made every
 * new page pay for V8 to hash its text as a key, and for being kept: a route
 * whose page is new each time ran 0.65 of the same route without ETags, 0.66
 * to 0.75 with this (bench/README.md).
 */
let lastText: string | undefined;
let lastTag = "";

/** The tag of a body kiln made from a string: the same as that of its bytes read back from a stream. */
function etagOfText(text: string): string {
  if (text === lastText) return lastTag;
  // UTF-8 takes at most 3 bytes for each UTF-16 unit; a page too large for the scratch buffer gets a buffer of its own, and is not kept.
  if (text.length * 3 > 1 << 20) return etagOf(encoder.encode(text));
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  lastText = text;
  return (lastTag = etagOf(scratch, encoder.encodeInto(text, scratch).written));
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
    response.headers.set("etag", etagOfText(text));
    return response;
  }
  const body = response.body;
  let bytes = body ? await bytesInMemory(response) : new Uint8Array(0);
  if (!bytes) return response;
  response.body?.cancel().catch(() => {});
  const out = new Response(body && (bytes as Uint8Array<ArrayBuffer>), response);
  if (bytes.byteOffset % 4) bytes = bytes.slice();
  out.headers.set("etag", etagOf(bytes));
  return out;
}

const NO_STORE = /(?:^|[\s,])no-store(?:[\s,=]|$)/i;

/**
 * The last step of a GET or HEAD: a 2xx that may be stored (a Cache-Control
 * without no-store, whoever set it) gets an ETag, and a 304 when the client's
 * copy is current. Anything else costs one header read.
 */
export function validate(request: Request, response: Response, method = request.method): Response | Promise<Response> {
  const headers = response.headers;
  const cc = headers.get("cache-control");
  if (cc === null || NO_STORE.test(cc)) return response;
  const status = response.status;
  if (status < 200 || status > 299 || status === 206) return response;
  // A HEAD handler's empty body is not the representation: nothing to hash.
  if (headers.has("etag") || (method === "HEAD" && !response.body)) return conditional(request, response);
  const text = knownBody(response);
  if (text === undefined) return tagged(response).then((out) => conditional(request, out));
  // A page kiln made from a string is tagged here and now: no await.
  headers.set("etag", etagOfText(text));
  return conditional(request, response);
}
