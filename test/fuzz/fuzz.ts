// A seeded fuzz of kiln inside workerd: hostile requests against the fixture
// app in test/fixtures/fuzz, with KV faults injected, and a model of each
// visitor's session to check that nothing is lost, leaked or resurrected.
// Used by test/fuzz.test.ts (a few thousand requests) and by `npm run fuzz`
// (test/fuzz/main.ts, 100,000+).
//
// Requests go over node:http to miniflare's socket rather than through
// dispatchFetch: it is three times faster here, and it sends paths and
// methods as a raw client would, without WHATWG normalisation.
import { createHash, randomInt } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { resolve } from "node:path";
import { startApp, type TestApp } from "../helpers/app.js";

const FUZZ_ROOT = resolve(import.meta.dirname, "../fixtures/fuzz");

export interface FuzzOptions {
  requests: number;
  seed: number;
  /** Concurrent request streams; each has its own visitors and its own PRNG. */
  lanes: number;
  /** Share of session operations and other requests that get a KV fault. */
  faultRate: number;
  /** A request slower than this is a hang. kiln waits 1 s before retrying a failed KV write. */
  timeoutMs: number;
  onProgress?: (done: number) => void;
}

const SECRET = "fuzz-secret-of-more-than-32-characters-0123456789";

// ---------------------------------------------------------------- PRNG

/** mulberry32: tiny, fast, and the same sequence for the same seed everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

export function seedFromEnv(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === "") return randomInt(2 ** 31);
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed;
}

// ---------------------------------------------------------------- requests

interface Fault {
  name: string;
  headers: Record<string, string>;
}

/**
 * KV faults, as test/helpers/kv-probe.js injects them: x-kv-fail makes get,
 * put or delete calls throw (every one, or -once the first; @PREFIX only for
 * keys that start with it), x-kv-slow-OP delays them. Any of them makes a 503
 * acceptable: a slow write may have to give way to a logout.
 */
const fail = (rule: string): Fault => ({ name: rule, headers: { "x-kv-fail": rule } });
const FAULTS: ((rng: Rng) => Fault)[] = [
  () => fail("get"),
  () => fail("get-once"),
  () => fail("get@revoked:"),
  () => fail("put"),
  () => fail("put-once"),
  () => fail("put@revoked:"),
  () => fail("put@session:"),
  () => fail("delete"),
  () => fail("delete-once"),
  () => fail("put-once,delete"),
  () => fail("get-once,put-once"),
  (rng) => ({ name: "slow-get", headers: { "x-kv-slow-get": String(rng.range(10, 250)) } }),
  (rng) => ({ name: "slow-put", headers: { "x-kv-slow-put": String(rng.range(10, 250)) } }),
  (rng) => ({ name: "slow-delete", headers: { "x-kv-slow-delete": String(rng.range(10, 250)) } }),
  (rng) => ({ name: "slow-put + delete", headers: { "x-kv-slow-put": String(rng.range(10, 100)), "x-kv-fail": "delete" } }),
];

/** get, get-once, get@revoked: and get-once,put-once all fail a read first: one kind, for grouping. */
const faultKind = (f: Fault) => f.name.split(",")[0].replace(/-once|@.*/g, "");

export interface FuzzRequest {
  method: string;
  /** As sent on the request line: not normalised. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What the body is, for a reproduction (its bytes are not printed). */
  bodyNote?: string;
  /** Sent without Content-Length, in chunks. */
  chunked?: boolean;
  /** The route the generator aimed at, before mutations: groups failures. */
  target: string;
  /** The target's path before mutations, for shrinking. */
  clean: string;
  fault?: Fault;
}

type Result =
  | { kind: "ok"; status: number; headers: Record<string, string | string[] | undefined>; setCookies: string[]; body: Buffer; ms: number }
  | { kind: "hang"; ms: number }
  /** A large upload cut off by the server before any answer reached the client. */
  | { kind: "refused"; message: string }
  | { kind: "error"; message: string };

class Transport {
  readonly agent: Agent;
  constructor(
    readonly base: URL,
    lanes: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: lanes * 4 });
  }

  async send(req: FuzzRequest, timeoutMs: number): Promise<Result> {
    const first = await this.sendOnce(req, timeoutMs);
    // A kept-alive socket the server had closed: Node's advice is to send again.
    return first.kind === "error" && first.reused ? this.sendOnce(req, timeoutMs) : first;
  }

  sendOnce(req: FuzzRequest, timeoutMs: number): Promise<Result & { reused?: boolean }> {
    return new Promise((resolve) => {
      const start = performance.now();
      let settled = false;
      const finish = (result: Result & { reused?: boolean }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const headers: Record<string, string> = { ...req.headers };
      if (req.fault) Object.assign(headers, req.fault.headers);
      if (req.body && !req.chunked) headers["content-length"] = String(req.body.length);
      // A body the Worker never read can stay on a kept-alive connection and be parsed as the next request.
      if (req.body) headers.connection = "close";
      let client: ReturnType<typeof httpRequest>;
      let answered = false;
      try {
        client = httpRequest(
          { host: this.base.hostname, port: this.base.port, method: req.method, path: req.path, headers, agent: req.body ? false : this.agent },
          (res) => {
            answered = true;
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
              const setCookie = res.headers["set-cookie"] ?? [];
              finish({ kind: "ok", status: res.statusCode ?? 0, headers: res.headers, setCookies: setCookie, body: Buffer.concat(chunks), ms: performance.now() - start });
            });
            res.on("error", (err) => finish({ kind: "error", message: err.message }));
          },
        );
      } catch (err) {
        // Node refused to send it (a character it will not put on the wire): a generator bug, not kiln's.
        throw new Error(`fuzz generator made an unsendable request ${req.method} ${JSON.stringify(req.path)}: ${(err as Error).message}`);
      }
      const timer = setTimeout(() => {
        finish({ kind: "hang", ms: performance.now() - start });
        client.destroy();
      }, timeoutMs);
      client.on("error", (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        // The server may answer before it has read a large body and close the connection: HTTP allows it.
        if (answered && (code === "ECONNRESET" || code === "EPIPE")) return;
        if (!answered && req.body && req.body.length > 1_000_000 && (code === "ECONNRESET" || code === "EPIPE")) {
          finish({ kind: "refused", message: err.message });
          return;
        }
        finish({ kind: "error", message: err.message, reused: client.reusedSocket && code === "ECONNRESET" });
      });
      if (!req.body) client.end();
      else if (!req.chunked) client.end(req.body);
      else {
        const cut = Math.floor(req.body.length / 2);
        client.write(req.body.subarray(0, cut));
        client.end(req.body.subarray(cut));
      }
    });
  }
}

// ---------------------------------------------------------------- generators

const ROUTES: { target: string; path: string }[] = [
  { target: "/", path: "/" },
  { target: "/boom", path: "/boom" },
  { target: "/pass", path: "/pass" },
  { target: "/stream", path: "/stream" },
  { target: "/hello/[name]", path: "/hello/{seg}" },
  { target: "/files/[[path]]", path: "/files" },
  { target: "/files/[[path]]", path: "/files/{seg}/{seg}" },
  { target: "/users/[id]", path: "/users/{seg}" },
  { target: "/users/me", path: "/users/me" },
  { target: "/users/[id]/posts/[post]", path: "/users/{seg}/posts/{seg}" },
  { target: "/api/echo", path: "/api/echo" },
  { target: "/api/items/[id]", path: "/api/items/{seg}" },
  { target: "/api/items/[id]", path: "/api/items/1" },
  { target: "/api/forward", path: "/api/forward" },
  { target: "/api (no route)", path: "/api/nothing" },
  { target: "/docs/[[page]]", path: "/docs" },
  { target: "/docs/[[page]]", path: "/docs/guide" },
  { target: "/docs/[[page]]", path: "/docs/{seg}" },
  { target: "public/docs", path: "/docs/guide.txt" },
  { target: "members guard", path: "/members" },
  { target: "members guard", path: "/members/" },
  { target: "members guard", path: "/members/guide.txt" },
  { target: "members guard", path: "/members/{seg}" },
  { target: "/members/profile", path: "/members/profile" },
  { target: "members/vault", path: "/members/vault/secret.txt" },
  { target: "members/vault", path: "/members/vault/{seg}" },
  { target: "/cached/page", path: "/cached/page" },
  { target: "/cached/edge", path: "/cached/edge" },
  { target: "/cached/stream/[kind]", path: "/cached/stream/{stream}" },
  { target: "/cached/edge-stream/[kind]", path: "/cached/edge-stream/{stream}" },
  { target: "/cached/dated", path: "/cached/dated" },
  { target: "/cached/own", path: "/cached/own" },
  { target: "/cached/string", path: "/cached/string" },
  { target: "/cached/purge", path: "/cached/purge" },
  { target: "/session/state", path: "/session/state" },
  { target: "/session/counter", path: "/session/counter" },
  { target: "/session/cart", path: "/session/cart" },
  { target: "/session/notice", path: "/session/notice" },
  { target: "/session/page", path: "/session/page" },
  { target: "/session/login", path: "/session/login" },
  { target: "/session/logout", path: "/session/logout" },
  { target: "/session/regenerate", path: "/session/regenerate" },
  { target: "/session/form", path: "/session/form" },
  { target: "/hooks/[name] (csrf = false)", path: "/hooks/{seg}" },
  { target: "/hooks/strict (csrf = true)", path: "/hooks/strict" },
  { target: "public", path: "/robots.txt" },
  { target: "public", path: "/style.css" },
  { target: "public", path: "/img/logo.svg" },
  { target: "public", path: "/about" },
  { target: "public", path: "/about.html" },
  { target: "public", path: "/404.html" },
  { target: "404", path: "/nothing/here" },
  { target: "404", path: "/{seg}" },
];

/** UTF-8 bytes as the latin1 string node:http puts on the wire unchanged. */
const rawUtf8 = (text: string) => Buffer.from(text, "utf8").toString("latin1");

const SEGMENTS = [
  "42", "0", "-1", "1e9", "007", "ada", "J%C3%BCrgen", "a%20b", "%E2%98%83", rawUtf8("é"), rawUtf8("☃"), rawUtf8("𝌆"),
  "%F0%9D%8C%86", "a.b", "a..b", "%25", "%2525", "constructor", "__proto__", "items", "keys", "hasOwnProperty", "toString",
  "guide", "notes", "index.html", "secret.txt", "guide.txt", "me", "%3Cscript%3E", "'%22", "a;b", "a,b", "~", "$", "(x)",
];

const MALFORMED = ["%", "%z1", "%zz", "%E0%A4", "%C0%AF", "%ED%A0%80", "%FF", "%F4%90%80%80", "%0", "%%", "%u0041"];
const UNICODE = [rawUtf8("é"), rawUtf8("☃"), rawUtf8("𝌆"), rawUtf8("\u202e"), rawUtf8("e\u0301"), "%E2%80%AE", "%EF%BB%BF", rawUtf8("\ufeff"), "%C3%A9"];

const QUERIES = [
  "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "items=1", "keys=x", "__proto__=1", "constructor=x", "hasOwnProperty=1", "toString=x",
  "valueOf=1", "length=5", "tag=a&tag=b&tag=c&tag=d", "score=3&score=x&score=-2.5", "name=%C3%A9", "a=%ZZ", "%=1", "title=%7B%7B7*7%7D%7D",
  "note=%7B%25%20raw%20%25%7D", "item=%22%27%3C%3E", "x=" + "y".repeat(3000), "q=", "&&&", "a=1&a=2", "name=" + rawUtf8("☃"),
];

function encodeChar(rng: Rng, ch: string): string {
  const hex = Buffer.from(ch, "utf8").toString("hex").toUpperCase().match(/../g)!;
  return hex.map((h) => "%" + (rng.chance(0.5) ? h : h.toLowerCase())).join("");
}

const STREAMS = ["bytes", "bytes-slow", "plain", "plain-slow", "timer", "assets", "assets-raw"];

function fillParams(rng: Rng, path: string): string {
  return path.replace(/\{seg\}/g, () => rng.pick(SEGMENTS)).replace(/\{stream\}/g, () => rng.pick(STREAMS));
}

/** Zero to three hostile changes to a path. */
function mutatePath(rng: Rng, path: string): string {
  const n = rng.pick([0, 0, 1, 1, 1, 2, 3]);
  for (let i = 0; i < n; i++) {
    const at = rng.range(1, path.length);
    const insert = (s: string) => path.slice(0, at) + s + path.slice(at);
    switch (rng.int(14)) {
      case 0: {
        // Percent-encode a character that needs no encoding (valid, mixed case).
        const j = rng.range(1, Math.max(1, path.length - 1));
        const ch = path[j];
        if (ch && ch !== "/" && ch !== "%") path = path.slice(0, j) + encodeChar(rng, ch) + path.slice(j + 1);
        break;
      }
      case 1:
        path = insert(rng.pick(MALFORMED));
        break;
      case 2:
        path = insert(rng.pick(["%2F", "%2f", "%5C", "%5c", "%2F%2F", "%252F"]));
        break;
      case 3:
        path = insert(rng.pick(["/..", "/../..", "/%2e%2e", "/.%2e", "/%2E%2E/", "/./", "/.", "/..%2f", "/..%5c", "/...", "%2e"]));
        break;
      case 4:
        path = rng.chance(0.5) ? path.replace(/\//, "//") : "/" + path;
        break;
      case 5:
        path = rng.chance(0.5) ? path.replace(/\//g, (s) => (rng.chance(0.5) ? "\\" : s)) : insert("\\");
        break;
      case 6:
        path = insert("/" + "a".repeat(rng.pick([300, 1024, 4096, 9000])));
        break;
      case 7:
        path = insert(rng.pick(["%00", "%00.txt", "%0A", "%0D%0A", "%09", "%7F"]));
        break;
      case 8:
        path = insert(rng.pick(UNICODE));
        break;
      case 9:
        path = path.endsWith("/") ? path.slice(0, -1) : path + rng.pick(["/", ".html", "/index.html", "/index", "/."]);
        break;
      case 10:
        path = path + "?" + Array.from({ length: rng.range(1, 3) }, () => rng.pick(QUERIES)).join("&");
        break;
      case 11:
        path = path + rng.pick(["#frag", "#", "?#", "?"]);
        break;
      case 12:
        path = path.replace(/[a-z]/, (c) => c.toUpperCase());
        break;
      case 13:
        path = insert(rng.pick([";", ";a=b", "*", "@", ":", "'", '"', "<", ">", "|", "^", "`", "{", "}"]));
        break;
    }
  }
  return path.startsWith("/") ? path : "/" + path;
}

const METHODS = ["GET", "GET", "GET", "GET", "GET", "HEAD", "HEAD", "POST", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
// workerd itself answers 501 to methods it does not know (LINK, M-SEARCH, FOO): kiln never sees those.
const ODD_METHODS = ["PROPFIND", "PURGE", "QUERY", "MKCOL", "LOCK", "SEARCH", "TRACE", "REPORT", "COPY", "MERGE", "patch", "get", "Post"];

const ACCEPTS = [
  "text/html", "application/json", "*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "application/json, text/html;q=0.1", "application/xml", "", "garbage;;;q=", "text/*", "image/avif,image/webp,*/*",
  "application/json;q=0", "application/vnd.api+json", "text/plain", "x".repeat(2000),
];

const DATES = [
  "garbage", "0", "-1", "Tue, 03 Nov 2026 10:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Sat, 31 Dec 9999 23:59:59 GMT",
  "Tuesday, 03-Nov-26 10:00:00 GMT", "Tue Nov  3 10:00:00 2026", new Date().toUTCString(), "Mon, 32 Foo 2026 99:99:99 GMT", "",
];

function etagHeader(rng: Rng, etags: string[]): string {
  const known = etags.length ? rng.pick(etags) : '"none"';
  return rng.pick([
    "*", '"x"', 'W/"x"', '"a", "b"', known, `W/${known}`, `"x", ${known}`, `${known}, *`, '"unterminated', ",,,", "W/", "*, \"x\"",
    '"' + "a".repeat(5000) + '"', 'W/"a", W/"b" , W/"c"', known.replace(/"/g, ""), "W/W/\"x\"", '"\\"', `${known},${known}`,
  ]);
}

interface Body {
  type?: string;
  body?: Buffer;
  note: string;
  chunked?: boolean;
}

function multipart(fields: [string, string][], boundary: string): string {
  return fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join("") + `--${boundary}--\r\n`;
}

function hostileBody(rng: Rng): Body {
  const b = (text: string) => Buffer.from(text, "latin1");
  switch (rng.int(16)) {
    case 0:
      return { note: "none" };
    case 1:
      return { type: "application/x-www-form-urlencoded", body: b("product=mug&user=ada&text=hi&csrf=x&event=seen"), note: "form" };
    case 2:
      return { type: "application/x-www-form-urlencoded", body: b(rng.pick(["%%%&&==", "a=%ZZ&b", "=&=&=", "product=%E0%A4", "&".repeat(5000)])), note: "form garbage" };
    case 3: {
      const text = multipart([["product", "vase"], ["text", "hello"], ["file", "x".repeat(200)]], "fuzzB");
      return { type: "multipart/form-data; boundary=fuzzB", body: b(text), note: "multipart" };
    }
    case 4: {
      const text = multipart([["product", "vase"], ["text", "hello"]], "fuzzB");
      return { type: "multipart/form-data; boundary=fuzzB", body: b(text.slice(0, rng.range(1, text.length - 2))), note: "truncated multipart" };
    }
    case 5:
      return { type: rng.pick(["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"x"]), body: b("--x\r\n\r\n"), note: "multipart without a usable boundary" };
    case 6:
      return { type: "application/json", body: b(JSON.stringify({ product: "bowl", user: "ada", text: "hi" })), note: "json" };
    case 7:
      return { type: "application/json", body: b(rng.pick(['{"a":', "nul", "[1,2", "\u0000", '{"product":{"__proto__":1}}', '"just a string"', "null", "1e999", "{}".repeat(1000)])), note: "json garbage" };
    case 8:
      return { type: "application/json", body: b("[".repeat(20000) + "]".repeat(20000)), note: "json nested 20,000 deep" };
    case 9:
      return { type: "text/plain", body: b("product=mug"), note: "text/plain" };
    case 10:
      return { type: rng.pick(["application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzzB"]), body: b('{"product":"mug"}'), note: "json sent as a form" };
    case 11:
      return { type: rng.pick(["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]), body: Buffer.alloc(0), note: "empty" };
    case 12:
      return { type: rng.pick(["application/octet-stream", "image/png", "garbage", "", "application/json; charset=utf-16"]), body: b("\x00\x01\x02\xff\xfe"), note: "odd type, binary" };
    case 13: {
      const size = rng.pick([1_100_000, 2_500_000]);
      return { type: rng.pick(["application/json", "application/x-www-form-urlencoded", "text/plain"]), body: Buffer.alloc(size, 0x61), note: `huge (${size} bytes)` };
    }
    case 14:
      return { type: "application/x-www-form-urlencoded", body: b("product=mug&text=" + "x".repeat(rng.pick([100, 5000, 70000]))), note: "form with a long field" };
    default:
      return { type: "application/json", body: b(JSON.stringify({ product: "mug" })), note: "json, chunked", chunked: true };
  }
}

// ---------------------------------------------------------------- sessions

type Op = "read" | "inc" | "add" | "clear" | "notice" | "page" | "profile" | "login" | "logout" | "regen" | "token" | "submit";
const OPS: Op[] = ["read", "inc", "add", "clear", "notice", "page", "profile", "login", "logout", "regen", "token", "submit"];
const PLAN_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "odd"];

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

interface State {
  counter: number | null;
  cart: Record<string, number> | null;
  user: string | null;
  posted: string | null;
}

const EMPTY: State = { counter: null, cart: null, user: null, posted: null };
const PRODUCTS = ["mug", "vase", "bowl"];

/** A visitor whose session the fuzz models. */
interface Client {
  name: string;
  cookie?: string;
  state: State;
  /** The flash message waiting; undefined when the fuzz does not know. */
  notice: string | null | undefined;
  token?: { value: string; id: string };
  /** False after a hang or a race: the next operation reads the state instead of checking it. */
  known: boolean;
  /** The last few operations, for a reproduction. */
  history: string[];
}

const idOf = (cookie: string) => cookie.split(".")[0];
const recordKey = (id: string) => `session:${createHash("sha256").update(id).digest("hex")}`;

/** The last kiln_session in Set-Cookie: its value, and whether it clears the cookie. */
function sessionCookieOf(setCookies: string[]): { value: string; cleared: boolean } | undefined {
  let found: { value: string; cleared: boolean } | undefined;
  for (const line of setCookies) {
    const m = /^\s*kiln_session=([^;]*)/.exec(line);
    if (m) found = { value: m[1], cleared: m[1] === "" || /max-age=0(?![0-9])/i.test(line) || /expires=thu, 01 jan 1970/i.test(line) };
  }
  return found;
}

function sameState(a: State, b: State): boolean {
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}
function normal(s: State) {
  const cart = s.cart && Object.fromEntries(Object.entries(s.cart).sort(([x], [y]) => x.localeCompare(y)));
  return { counter: s.counter, cart, user: s.user, posted: s.posted };
}
const isEmpty = (s: State) => sameState(s, EMPTY);

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A cookie value that is not the one kiln issued: it must read as anonymous. */
function tamper(rng: Rng, value: string, others: string[]): { value: string; how: string } {
  for (;;) {
    let out: string, how: string;
    switch (rng.int(8)) {
      case 0: {
        const i = rng.int(value.length);
        if (value[i] === ".") continue;
        let c = rng.pick([...B64]);
        while (c === value[i]) c = rng.pick([...B64]);
        out = value.slice(0, i) + c + value.slice(i + 1);
        how = `character ${i} changed`;
        break;
      }
      case 1: {
        // Only the two unused low bits of the signature's last base64url character.
        const last = B64.indexOf(value.at(-1)!);
        out = value.slice(0, -1) + B64[last ^ rng.range(1, 3)];
        how = "the signature's last character, another spelling of the same bytes";
        break;
      }
      case 2:
        out = value.slice(0, rng.range(1, value.length - 1));
        how = "truncated";
        break;
      case 3:
        out = value + rng.pick(["=", "==", "A", ".", "..x"]);
        how = "appended to";
        break;
      case 4:
        out = value + "A".repeat(rng.pick([100, 5000]));
        how = "oversized";
        break;
      case 5:
        out = value.replace(/[a-z]/g, (c) => c.toUpperCase());
        how = "upper-cased";
        break;
      case 6: {
        const other = others.find((o) => idOf(o) !== idOf(value));
        if (!other) continue;
        out = idOf(other) + value.slice(value.indexOf("."));
        how = "another session's id with this signature";
        break;
      }
      default: {
        const [id, issued, sig] = value.split(".");
        out = `${id}.${(parseInt(issued, 36) + rng.range(1, 5000)).toString(36)}.${sig}`;
        how = "issued time changed";
      }
    }
    if (out !== value) return { value: out, how };
  }
}

// ---------------------------------------------------------------- the run

export type FailureKind = "5xx" | "hang" | "transport" | "lost" | "resurrected" | "accepted" | "leaked";

export interface Failure {
  kind: FailureKind;
  /** Groups failures of one cause. */
  key: string;
  request: FuzzRequest;
  status: number | "hang" | "error";
  firstLine: string;
  /** What was wrong, for the session invariants. */
  detail?: string;
  /** The operations before it, for the session invariants. */
  context?: string[];
  /** What workerd logged while the request ran again (5xx only). */
  log?: string;
}

export interface FailureClass {
  kind: FailureKind;
  count: number;
  example: Failure;
}

export interface FuzzReport {
  seed: number;
  options: FuzzOptions;
  requests: number;
  byStatus: Record<string, number>;
  faults: Record<string, number>;
  expected500: number;
  expected503: number;
  unexpected5xx: number;
  hangs: number;
  transportErrors: number;
  lost: number;
  resurrected: number;
  accepted: number;
  leaked: number;
  sessionOps: number;
  races: number;
  deadIds: number;
  elapsedMs: number;
  classes: FailureClass[];
}

function firstLine(body: Buffer): string {
  const text = body.toString("utf8");
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  return line.length > 120 ? line.slice(0, 117) + "..." : line;
}

/** /boom throws by design, for every method: its 500 is the one the fixture means. */
function routesToBoom(path: string): boolean {
  let pathname: string;
  try {
    pathname = new URL(path, "http://fuzz.invalid").pathname;
  } catch {
    return false;
  }
  const segments = pathname.split("/").filter(Boolean);
  if (segments.length !== 1) return false;
  try {
    return decodeURIComponent(segments[0]) === "boom";
  } catch {
    return false;
  }
}

/** What only public/members/ holds. */
const GUARDED = ["members guide", "members home", "the vault secret"];

async function inParallel<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++]);
  }));
}

const sizeOf = (r: FuzzRequest) => r.path.length + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 10, 0) + (r.body?.length ?? 0) + (r.fault ? 10 : 0);

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  let capture: string | null = null;
  const app = await startApp(FUZZ_ROOT, {
    kvProbe: true,
    bindings: { SESSION_SECRET: SECRET },
    // workerd's output is kept only while a reproduction runs again; otherwise it is noise (every KV fault logs).
    onOutput: (text) => {
      if (capture !== null) capture += text;
    },
  });
  try {
    return await new Run(app, options, (on) => (capture = on ? "" : null), () => capture ?? "").go();
  } finally {
    await app.dispose();
  }
}

interface Dead {
  id: string;
  cookie: string;
  how: string;
  request: FuzzRequest;
  context: string[];
}

class Run {
  transport!: Transport;
  readonly report: FuzzReport;
  readonly classes = new Map<string, FailureClass>();
  readonly etags: string[] = [];
  readonly dead: Dead[] = [];
  readonly reportedDead = new Set<string>();
  /** Sessions that no modelled client owns: hostile requests may use and abuse them. */
  readonly orphans: string[] = [];
  done = 0;
  consecutiveErrors = 0;

  constructor(
    readonly app: TestApp,
    readonly options: FuzzOptions,
    readonly setCapture: (on: boolean) => void,
    readonly captured: () => string,
  ) {
    this.report = {
      seed: options.seed,
      options,
      requests: 0,
      byStatus: {},
      faults: {},
      expected500: 0,
      expected503: 0,
      unexpected5xx: 0,
      hangs: 0,
      transportErrors: 0,
      lost: 0,
      resurrected: 0,
      accepted: 0,
      leaked: 0,
      sessionOps: 0,
      races: 0,
      deadIds: 0,
      elapsedMs: 0,
      classes: [],
    };
  }

  async go(): Promise<FuzzReport> {
    this.transport = new Transport(await this.app.mf.ready, this.options.lanes);
    const start = performance.now();
    const { lanes, requests, seed } = this.options;
    await Promise.all(
      Array.from({ length: lanes }, (_, i) => this.lane(i, Math.floor(requests / lanes) + (i < requests % lanes ? 1 : 0), (seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0)),
    );
    // Writes a fix may leave to waitUntil get a moment to land before the final look.
    await new Promise((r) => setTimeout(r, 300));
    await inParallel(this.dead, lanes, (d) => this.checkDead(d, "at the end of the run"));
    // And as a browser would find out: the ended cookie must open nothing.
    await inParallel(this.dead, lanes, (d) => this.replayDead(d));
    this.report.deadIds = this.dead.length;
    this.report.elapsedMs = performance.now() - start;
    await this.minimise();
    this.report.classes = [...this.classes.values()].sort((a, b) => b.count - a.count);
    this.transport.agent.destroy();
    return this.report;
  }

  // ------------------------------------------------------------ bookkeeping

  fail(f: Omit<Failure, "key"> & { key?: string }): void {
    const counter = { "5xx": "unexpected5xx", hang: "hangs", transport: "transportErrors", lost: "lost", resurrected: "resurrected", accepted: "accepted", leaked: "leaked" } as const;
    this.report[counter[f.kind]]++;
    const key = f.key ?? `${f.kind}|${f.status}|${f.request.target}|${f.request.fault ? faultKind(f.request.fault) : ""}|${f.firstLine.replace(/\d+/g, "N")}`;
    const failure: Failure = { ...f, key };
    const known = this.classes.get(key);
    if (!known) this.classes.set(key, { kind: f.kind, count: 1, example: failure });
    else {
      known.count++;
      if (sizeOf(failure.request) < sizeOf(known.example.request)) known.example = failure;
    }
  }

  async exchange(req: FuzzRequest): Promise<Result> {
    const res = await this.transport.send(req, this.options.timeoutMs);
    this.report.requests++;
    this.options.onProgress?.(++this.done);
    if (req.fault) this.report.faults[req.fault.name] = (this.report.faults[req.fault.name] ?? 0) + 1;
    if (res.kind === "hang") {
      this.report.byStatus.hang = (this.report.byStatus.hang ?? 0) + 1;
      this.fail({ kind: "hang", request: req, status: "hang", firstLine: `no answer within ${this.options.timeoutMs} ms` });
      return res;
    }
    if (res.kind === "refused") {
      this.report.byStatus["upload cut off"] = (this.report.byStatus["upload cut off"] ?? 0) + 1;
      return res;
    }
    if (res.kind === "error") {
      this.report.byStatus.error = (this.report.byStatus.error ?? 0) + 1;
      this.fail({ kind: "transport", request: req, status: "error", firstLine: res.message });
      // workerd gone: nothing after this means anything.
      if (++this.consecutiveErrors > 50) throw new Error(`fuzz: 50 connection errors in a row (last: ${res.message}); seed ${this.options.seed}`);
      return res;
    }
    this.consecutiveErrors = 0;
    const cls = `${Math.floor(res.status / 100)}xx`;
    this.report.byStatus[cls] = (this.report.byStatus[cls] ?? 0) + 1;
    const etag = res.headers.etag;
    if (typeof etag === "string" && this.etags.length < 40 && !this.etags.includes(etag)) this.etags.push(etag);
    if (res.status >= 500) {
      if (res.status === 500 && routesToBoom(req.path)) this.report.expected500++;
      else if (res.status === 503 && req.fault) this.report.expected503++;
      else this.fail({ kind: "5xx", request: req, status: res.status, firstLine: firstLine(res.body) });
    }
    // Without any cookie nobody is logged in: the guarded folder must not answer.
    if (req.headers.cookie === undefined && res.status < 300 && GUARDED.some((text) => res.body.includes(text))) {
      this.fail({ kind: "leaked", key: `leaked|${req.target}|${res.status}`, request: req, status: res.status, firstLine: firstLine(res.body), detail: "a file of the guarded folder public/members/ reached a visitor with no session" });
    }
    return res;
  }

  /**
   * A record with data that no revocation mark (revoked:<hash>, docs/sessions.md)
   * has ended: a write in flight may put a record back after a logout, and
   * the mark is what makes that harmless.
   */
  async isLive(id: string): Promise<boolean> {
    const ns = await this.app.mf.getKVNamespace("SESSIONS");
    const key = recordKey(id);
    const text = await ns.get(key, "text");
    if (text === null || (await ns.get(`revoked:${key.slice("session:".length)}`, "text")) !== null) return false;
    try {
      const record = JSON.parse(text) as { data?: unknown };
      return !!record && typeof record === "object" && !!record.data && typeof record.data === "object";
    } catch {
      return false;
    }
  }

  async killed(d: Dead): Promise<void> {
    this.dead.push(d);
    await this.checkDead(d, "right after the response");
  }

  async checkDead(d: Dead, when: string): Promise<void> {
    if (this.reportedDead.has(d.id) || !(await this.isLive(d.id))) return;
    this.reportedDead.add(d.id);
    this.fail({
      kind: "resurrected",
      key: `resurrected|${d.how}|${d.request.fault ? faultKind(d.request.fault) : ""}`,
      request: d.request,
      status: 200,
      firstLine: "",
      detail: `the client was told its session ended (${d.how}), but the record is still in KV ${when}`,
      context: d.context,
    });
  }

  async replayDead(d: Dead): Promise<void> {
    if (this.reportedDead.has(d.id)) return;
    const req: FuzzRequest = { method: "GET", path: "/session/state", headers: { cookie: `kiln_session=${d.cookie}` }, target: "/session/state", clean: "/session/state" };
    const res = await this.exchange(req);
    if (res.kind !== "ok" || res.status !== 200) return;
    let got: State;
    try {
      got = (JSON.parse(res.body.toString("utf8")) as { state: State }).state;
    } catch {
      return;
    }
    if (isEmpty(got)) return;
    this.reportedDead.add(d.id);
    this.fail({
      kind: "resurrected",
      key: `resurrected|replay|${d.how}|${d.request.fault ? faultKind(d.request.fault) : ""}`,
      request: d.request,
      status: 200,
      firstLine: "",
      detail: `the client was told its session ended (${d.how}), but at the end of the run its old cookie still reads ${JSON.stringify(normal(got))}`,
      context: d.context,
    });
  }

  // ------------------------------------------------------------ lanes

  /**
   * Each lane starts with its share of two plans, so that even a short run
   * sends every session operation under every fault, and every route with
   * every kind of method; then it goes on at random.
   */
  async lane(index: number, quota: number, seed: number): Promise<void> {
    const rng = new Rng(seed);
    const clients: Client[] = [0, 1].map((n) => ({ name: `lane${index}-client${n}`, state: { ...EMPTY }, notice: null, known: true, history: [] }));
    const lanes = this.options.lanes;
    const opPlan = shuffle(rng, OPS.flatMap((op) => [undefined, ...FAULTS].map((fault) => ({ op, fault })))).filter((_, i) => i % lanes === index);
    const routePlan = shuffle(rng, ROUTES.flatMap((route) => PLAN_METHODS.map((method) => ({ route, method })))).filter((_, i) => i % lanes === index);
    let sent = 0;
    while (sent < quota) {
      const roll = rng.next();
      const client = rng.pick(clients);
      if (roll < 0.36) {
        const planned = opPlan.pop();
        sent += planned ? await this.plannedOp(rng, client, planned.op, planned.fault?.(rng)) : await this.sessionOp(rng, client);
      } else if (roll < 0.4) sent += await this.probe(rng, client, clients);
      else if (roll < 0.41 && quota - sent >= 2) sent += await this.race(rng, client);
      else {
        const planned = routePlan.pop();
        sent += await this.hostile(rng, planned?.route, planned && (planned.method === "odd" ? rng.pick(ODD_METHODS) : planned.method));
      }
    }
  }

  /** An operation under a given fault, after the fault-free ones that make it mean something. */
  async plannedOp(rng: Rng, c: Client, op: Op, fault: Fault | undefined): Promise<number> {
    let sent = 0;
    const step = async (prep: Op) => (sent += await this.sessionOp(rng, c, prep, null));
    if (!c.known) await step("read");
    if (!c.cookie || isEmpty(c.state)) await step("inc");
    if ((op === "profile" || op === "submit") && !c.state.user) await step("login");
    if (op === "clear" && !c.state.cart) await step("add");
    if ((op === "notice" || op === "page" || op === "profile") && !c.notice) await step("add");
    if (op === "submit" && (!c.token || !c.cookie || c.token.id !== idOf(c.cookie))) await step("token");
    return sent + (await this.sessionOp(rng, c, op, fault ?? null));
  }

  maybeFault(rng: Rng): Fault | undefined {
    return rng.chance(this.options.faultRate) ? rng.pick(FAULTS)(rng) : undefined;
  }

  // ------------------------------------------------------------ hostile requests

  async hostile(rng: Rng, route = rng.pick(ROUTES), method = rng.chance(0.08) ? rng.pick(ODD_METHODS) : rng.pick(METHODS)): Promise<number> {
    const clean = fillParams(rng, route.path);
    const path = mutatePath(rng, clean);
    const unsafe = method !== "GET" && method !== "HEAD";
    const headers: Record<string, string> = {};
    if (rng.chance(0.5)) headers.accept = rng.pick(ACCEPTS);
    const cookie = this.hostileCookie(rng);
    if (cookie) headers.cookie = cookie;
    if (rng.chance(0.2)) headers["if-none-match"] = etagHeader(rng, this.etags);
    if (rng.chance(unsafe ? 0.3 : 0.05)) headers["if-match"] = etagHeader(rng, this.etags);
    if (rng.chance(0.12)) headers["if-modified-since"] = rng.pick(DATES);
    if (rng.chance(unsafe ? 0.15 : 0.03)) headers["if-unmodified-since"] = rng.pick(DATES);
    if (rng.chance(0.05)) headers.range = rng.pick(["bytes=0-1", "bytes=abc", "bytes=5-", "bytes=-1", "bytes=0-0,2-3"]);
    if (rng.chance(0.2)) headers["sec-fetch-site"] = rng.pick(["same-origin", "same-site", "cross-site", "none", "garbage"]);
    if (rng.chance(0.1)) headers["sec-fetch-mode"] = rng.pick(["navigate", "cors", "no-cors", "same-origin"]);
    if (rng.chance(0.15)) headers.origin = rng.pick(["null", "https://evil.example", `http://${this.transport.base.host}`, "http://localhost", "garbage", ""]);
    if (rng.chance(0.03)) headers.authorization = "Bearer fuzz";
    if (rng.chance(0.05)) headers[rng.pick(["items", "keys", "constructor", "__proto__", "hasownproperty", "tostring"])] = rng.pick(["1", "x", "{}", ""]);
    if (rng.chance(0.03)) headers["x-long"] = "v".repeat(rng.pick([1000, 8000]));
    if (rng.chance(0.03)) headers["x-latin1"] = "\xe9\xff\x80";
    const withBody = unsafe ? rng.chance(0.7) : rng.chance(0.02);
    const req: FuzzRequest = { method, path, headers, target: route.target, clean, fault: this.maybeFault(rng) };
    if (withBody) {
      const body = hostileBody(rng);
      if (body.type !== undefined) headers["content-type"] = body.type;
      req.body = body.body;
      req.bodyNote = body.note;
      req.chunked = body.chunked;
    }
    const res = await this.exchange(req);
    if (res.kind === "ok") await this.afterHostile(req, res);
    return 1;
  }

  hostileCookie(rng: Rng): string | undefined {
    if (!rng.chance(0.4)) return undefined;
    const orphan = this.orphans.length ? rng.pick(this.orphans) : undefined;
    const dead = this.dead.length ? rng.pick(this.dead).cookie : undefined;
    const some = orphan ?? "AAAAAAAAAAAAAAAAAAAAAAAA.tp5lvv." + "A".repeat(43);
    switch (rng.int(12)) {
      case 0:
      case 1:
        return `kiln_session=${some}`;
      case 2:
        return `kiln_session=${dead ?? some}`;
      case 3:
        return `kiln_session=${tamper(rng, some, this.orphans).value}`;
      case 4:
        return `kiln_session=${some}; kiln_session=${rng.chance(0.5) ? some : "x"}`;
      case 5:
        return `kiln_session =${some}`;
      case 6:
        return `kiln_session=${"A".repeat(rng.pick([4097, 9000]))}`;
      case 7:
        return rng.pick(["kiln_session=", "kiln_session", "=", ";;;", "kiln_session=%%%", 'kiln_session="x"', "kiln_session=a.b.c", "kiln_session=\xe9"]);
      case 8:
        return Array.from({ length: 60 }, (_, i) => `c${i}=${"v".repeat(20)}`).join("; ") + `; kiln_session=${some}`;
      case 9:
        return `other=1; kiln_session=${some}; theme=dark`;
      case 10:
        return `kiln_session=${some.slice(0, rng.range(1, some.length - 1))}`;
      default:
        return `kiln_session=${encodeURIComponent(some).replace(/[A-Za-z]/, (c) => "%" + c.charCodeAt(0).toString(16))}`;
    }
  }

  async afterHostile(req: FuzzRequest, res: Extract<Result, { kind: "ok" }>): Promise<void> {
    const sc = sessionCookieOf(res.setCookies);
    if (!sc) return;
    if (!sc.cleared) {
      if (!this.orphans.includes(sc.value)) this.orphans.push(sc.value);
      if (this.orphans.length > 64) this.orphans.shift();
      return;
    }
    // Told "your session is over": the record the request's one intact cookie named must be gone.
    const m = /^kiln_session=([A-Za-z0-9_-]{24}\.[0-9a-z]+\.[A-Za-z0-9_-]{43})$/.exec(req.headers.cookie ?? "");
    if (!m || !this.orphans.includes(m[1])) return;
    this.orphans.splice(this.orphans.indexOf(m[1]), 1);
    await this.killed({ id: idOf(m[1]), cookie: m[1], how: `${req.method} ${req.target} cleared the cookie`, request: req, context: [] });
  }

  // ------------------------------------------------------------ modelled sessions

  opRequest(rng: Rng, c: Client, method: string, path: string, form?: Record<string, string>): FuzzRequest {
    const headers: Record<string, string> = {};
    if (c.cookie) headers.cookie = rng.chance(0.2) ? `theme=dark; kiln_session=${c.cookie}` : `kiln_session=${c.cookie}`;
    if (rng.chance(0.4)) headers.accept = rng.pick(["text/html", "application/json", "*/*"]);
    if (rng.chance(0.3)) headers["sec-fetch-site"] = rng.pick(["same-origin", "none"]);
    if (method === "GET" && rng.chance(0.1)) headers["if-none-match"] = etagHeader(rng, this.etags);
    const req: FuzzRequest = { method, path, headers, target: path, clean: path };
    if (form) {
      if (rng.chance(0.3)) {
        headers["content-type"] = "application/json";
        req.body = Buffer.from(JSON.stringify(form));
        req.bodyNote = JSON.stringify(form);
      } else {
        headers["content-type"] = "application/x-www-form-urlencoded";
        req.body = Buffer.from(new URLSearchParams(form).toString());
        req.bodyNote = new URLSearchParams(form).toString();
      }
    }
    return req;
  }

  describe(req: FuzzRequest, res: Result | undefined): string {
    const fault = req.fault ? ` [${Object.entries(req.fault.headers).map(([k, v]) => `${k}: ${v}`).join(", ")}]` : "";
    const body = req.bodyNote ? ` body ${req.bodyNote}` : "";
    const cookie = req.headers.cookie ? ` cookie ${req.headers.cookie.length > 60 ? req.headers.cookie.slice(0, 57) + "..." : req.headers.cookie}` : "";
    const answer = !res ? "" : res.kind === "ok" ? ` → ${res.status} ${firstLine(res.body)}${sessionCookieOf(res.setCookies) ? (sessionCookieOf(res.setCookies)!.cleared ? " (cookie cleared)" : " (new cookie " + idOf(sessionCookieOf(res.setCookies)!.value) + ")") : ""}` : ` → ${res.kind}`;
    return `${req.method} ${req.path}${body}${cookie}${fault}${answer}`;
  }

  remember(c: Client, line: string): void {
    c.history.push(line);
    if (c.history.length > 6) c.history.shift();
  }

  /** One operation on a modelled session, checked against the model. `fault`: null for none, undefined for a random one. */
  async sessionOp(rng: Rng, c: Client, planned?: Op, fault?: Fault | null): Promise<number> {
    this.report.sessionOps++;
    const op: Op = !c.known
      ? "read"
      : (planned ?? rng.pick<Op>(["read", "read", "inc", "inc", "add", "add", "clear", "notice", "page", "profile", "login", "logout", "regen", "token", "submit", "submit"]));
    const before = { ...c.state };
    const exp: State = { ...c.state, cart: c.state.cart && { ...c.state.cart } };
    let req: FuzzRequest;
    let expStatus = 200;
    /** Ops whose answer, on a KV read failure, may be the anonymous view (nothing is written). */
    let readOnly = false;
    let newNotice: string | null | undefined = c.notice;
    let kills = false;
    let posted: string | undefined;
    switch (op) {
      case "read":
        req = this.opRequest(rng, c, "GET", "/session/state");
        readOnly = true;
        break;
      case "inc":
        req = this.opRequest(rng, c, "POST", "/session/counter");
        exp.counter = (exp.counter ?? 0) + 1;
        break;
      case "add": {
        const product = rng.pick(PRODUCTS);
        req = this.opRequest(rng, c, "POST", "/session/cart", { product });
        exp.cart = { ...(exp.cart ?? {}), [product]: (exp.cart?.[product] ?? 0) + 1 };
        newNotice = `Added ${product}`;
        break;
      }
      case "clear":
        req = this.opRequest(rng, c, "DELETE", "/session/cart");
        readOnly = exp.cart === null;
        exp.cart = null;
        break;
      case "notice":
        req = this.opRequest(rng, c, "GET", "/session/notice");
        // Only a flash to use up: the anonymous answer of a failed KV read writes nothing.
        readOnly = true;
        newNotice = null;
        break;
      case "page":
        req = this.opRequest(rng, c, "GET", "/session/page");
        readOnly = true;
        newNotice = null;
        break;
      case "profile":
        req = this.opRequest(rng, c, "GET", "/members/profile");
        expStatus = c.state.user ? 200 : 403;
        readOnly = true;
        if (c.state.user) newNotice = null;
        break;
      case "login": {
        const user = rng.pick(["ada", "grace", "edsger", "barbara"]);
        req = this.opRequest(rng, c, "POST", "/session/login", { user });
        exp.user = user;
        kills = true;
        break;
      }
      case "logout":
        req = this.opRequest(rng, c, "POST", "/session/logout");
        Object.assign(exp, EMPTY);
        newNotice = null;
        kills = true;
        break;
      case "regen":
        req = this.opRequest(rng, c, "POST", "/session/regenerate");
        kills = true;
        break;
      case "token":
        req = this.opRequest(rng, c, "GET", "/session/form");
        readOnly = !!c.cookie;
        break;
      case "submit": {
        const useOwn = c.token && (planned === "submit" || rng.chance(0.85));
        const token = useOwn ? c.token!.value : rng.pick(["", "x", "A".repeat(43), c.token ? tamper(rng, c.token.value + ".x.y", []).value : "nope"]);
        posted = rng.pick(["hello", "<b>bold</b>", "é", "a & b"]);
        req = this.opRequest(rng, c, "POST", "/session/form", { csrf: token, text: posted });
        // Forms must be urlencoded or multipart here: the route reads request.formData().
        req.headers["content-type"] = "application/x-www-form-urlencoded";
        req.body = Buffer.from(new URLSearchParams({ csrf: token, text: posted }).toString());
        req.bodyNote = `csrf=${useOwn ? "<its token>" : JSON.stringify(token)}&text=${posted}`;
        const valid = useOwn && c.cookie !== undefined && c.token!.id === idOf(c.cookie);
        if (valid) exp.posted = posted;
        else expStatus = 403;
        readOnly = !valid;
        break;
      }
    }
    // A re-synchronising read must see the store as it is.
    req.fault = !c.known || fault === null ? undefined : (fault ?? this.maybeFault(rng));
    const res = await this.exchange(req);
    const line = this.describe(req, res);
    const context = [...c.history];
    this.remember(c, line);
    if (res.kind !== "ok") {
      c.known = false;
      return 1;
    }
    const sc = sessionCookieOf(res.setCookies);
    const oldCookie = c.cookie;
    if (res.status >= 500) {
      // A 503 under a fault means "nothing happened": the model stays as it was, and a read shows it.
      if (!(res.status === 503 && req.fault)) c.known = false;
      if (sc) this.adoptCookie(c, sc);
      if (sc) c.known = false;
      return 1 + (await this.verify(c, req, res, op, [...context, line]));
    }

    // What the route says the session holds now.
    const text = res.body.toString("utf8");
    let got: State | undefined;
    let gotNotice: string | null | undefined;
    try {
      if (op === "notice") gotNotice = (JSON.parse(text) as { notice: string | null }).notice;
      else if (op === "page") {
        const m = /<pre id="state">([^<]*)<\/pre>/.exec(text);
        if (m) got = JSON.parse(m[1].replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")) as State;
      } else if (op === "logout") got = { ...EMPTY };
      else if (op !== "profile" && op !== "token" && res.status === 200) got = (JSON.parse(text) as { state: State }).state;
    } catch {
      got = undefined;
    }

    if (!c.known) {
      // Re-synchronise after a hang or a race: believe the read.
      if (op === "read" && res.status === 200 && got) {
        this.resync(c, got);
        c.known = true;
      }
      if (sc) this.adoptCookie(c, sc);
      return 1;
    }

    const problems: string[] = [];
    if (res.status !== expStatus) problems.push(`status ${res.status}, expected ${expStatus}`);
    if (got && res.status === expStatus && !sameState(got, exp)) problems.push(`state ${JSON.stringify(normal(got))}, expected ${JSON.stringify(normal(exp))}`);
    if (op === "notice" && c.notice !== undefined && gotNotice !== c.notice) problems.push(`notice ${JSON.stringify(gotNotice)}, expected ${JSON.stringify(c.notice)}`);
    if ((op === "page" || (op === "profile" && res.status === 200)) && c.notice && !text.includes(c.notice)) problems.push(`the page does not show the flash ${JSON.stringify(c.notice)}`);
    if (op === "profile" && res.status === 200 && c.state.user && !text.includes(`Profile of ${c.state.user}`)) problems.push(`the profile is not ${c.state.user}'s`);
    const writes = !readOnly && res.status < 400;
    const oldId = oldCookie && idOf(oldCookie);
    if (sc && !sc.cleared && oldId && idOf(sc.value) !== oldId && op !== "login" && op !== "regen") problems.push(`the session moved to a new id (${idOf(sc.value)}) without regenerate()`);
    if ((op === "login" || op === "regen") && res.status === 200 && (!sc || sc.cleared || idOf(sc.value) === oldId)) problems.push("regenerate() issued no new id");
    if (op === "logout" && res.status === 200 && !sc?.cleared) problems.push("logout did not clear the cookie");
    if (writes && !oldCookie && op !== "logout" && !sc) problems.push("a change to a new session sent no cookie");

    // An unknown flash, under a fault: an answer without one may be a failed read, not a flash used up.
    if ((op === "notice" || op === "page" || op === "profile") && c.notice === undefined && req.fault) newNotice = undefined;
    // A KV read that fails may leave a read-only request anonymous, as long as nothing is written.
    const degraded = problems.length > 0 && readOnly && req.fault && !sc && (got ? isEmpty(got) : true) && (op !== "notice" || gotNotice === null);
    if (degraded) return 1 + (await this.verify(c, req, res, op, [...context, line]));

    if (problems.length) {
      const cause = req.fault ? req : undefined;
      this.fail({
        kind: "lost",
        key: `lost|${op}|${req.fault ? faultKind(req.fault) : "after: " + (context.at(-1) ?? "").replace(/\S*\d\S*/g, "").slice(0, 60)}`,
        request: req,
        status: res.status,
        firstLine: firstLine(res.body),
        detail: `${c.name} had ${JSON.stringify(normal(before))}${oldCookie ? "" : " and no cookie"}; ${problems.join("; ")}${cause ? "" : " (no fault in this request: the previous one left this)"}`,
        context: [...context, line],
      });
      // The next operation reads the state afresh, so one loss is reported once.
      c.known = false;
      c.notice = undefined;
    } else {
      c.state = exp;
      c.notice = newNotice;
      if (op === "submit" && posted !== undefined && expStatus === 200) c.state.posted = posted;
    }
    if (sc) this.adoptCookie(c, sc);
    if (op === "token" && res.status === 200 && c.cookie) {
      const m = /name="csrf" value="([^"]*)"/.exec(text);
      if (m) c.token = { value: m[1], id: idOf(c.cookie) };
    }
    if (kills && !problems.length && oldCookie && res.status < 400 && sc && (sc.cleared || idOf(sc.value) !== oldId)) {
      await this.killed({ id: oldId!, cookie: oldCookie, how: op === "logout" ? "logout: destroy()" : `${op}: regenerate()`, request: req, context: [...context, line] });
    }
    return 1 + (problems.length ? 0 : await this.verify(c, req, res, op, [...context, line]));
  }

  /**
   * After a request with a KV fault that kiln answered as it did: the next
   * request with the same cookie must read what that answer implied (the
   * change, or, after a 503 or an anonymous read, the session as it was).
   */
  async verify(c: Client, cause: FuzzRequest, answer: Extract<Result, { kind: "ok" }>, op: Op, context: string[]): Promise<number> {
    if (!cause.fault || !c.known || !c.cookie) return 0;
    const req: FuzzRequest = { method: "GET", path: "/session/state", headers: { cookie: `kiln_session=${c.cookie}` }, target: "/session/state", clean: "/session/state" };
    const res = await this.exchange(req);
    let got: State | undefined;
    try {
      if (res.kind === "ok" && res.status === 200) got = (JSON.parse(res.body.toString("utf8")) as { state: State }).state;
    } catch {
      got = undefined;
    }
    if (!got) {
      c.known = false;
      return 1;
    }
    if (!sameState(got, c.state)) {
      this.fail({
        kind: "lost",
        key: `lost|${op}|${faultKind(cause.fault)}`,
        request: cause,
        status: answer.status,
        firstLine: firstLine(answer.body),
        detail: `${c.name} was told ${answer.status}; the next request with the same cookie reads ${JSON.stringify(normal(got))}, expected ${JSON.stringify(normal(c.state))}`,
        context,
      });
      this.resync(c, got);
    }
    return 1;
  }

  /** Believe what kiln read. A cookie that reads as nobody's is dropped: its next write starts a new session, rightly. */
  resync(c: Client, got: State): void {
    c.state = got;
    c.notice = undefined;
    if (isEmpty(got)) {
      c.cookie = undefined;
      c.token = undefined;
    }
  }

  adoptCookie(c: Client, sc: { value: string; cleared: boolean }): void {
    if (sc.cleared) {
      c.cookie = undefined;
      c.token = undefined;
      c.state = { ...EMPTY };
      c.notice = null;
    } else c.cookie = sc.value;
  }

  /** The cookie invariants: a dead, tampered or doubled cookie is an anonymous visitor. */
  async probe(rng: Rng, c: Client, clients: Client[]): Promise<number> {
    let cookie: string, how: string, kind: "resurrected" | "accepted";
    let state: State;
    const roll = rng.int(3);
    if (roll === 0 && this.dead.length) {
      const d = rng.pick(this.dead);
      cookie = `kiln_session=${d.cookie}`;
      how = `the cookie of a session that ended (${d.how})`;
      kind = "resurrected";
      state = EMPTY;
    } else if (c.cookie && c.known && !isEmpty(c.state)) {
      state = c.state;
      kind = "accepted";
      if (roll === 1) {
        const t = tamper(rng, c.cookie, clients.map((x) => x.cookie).filter((x): x is string => !!x));
        cookie = `kiln_session=${t.value}`;
        how = `a tampered cookie (${t.how})`;
      } else {
        cookie = rng.pick([
          `kiln_session=${c.cookie}; kiln_session=${c.cookie}`,
          `kiln_session=${c.cookie}; kiln_session =x`,
          `kiln_session =x; kiln_session=${c.cookie}`,
          `kiln_session=x; kiln_session=${c.cookie}`,
        ]);
        how = "the session cookie twice";
      }
    } else return this.sessionOp(rng, c);
    const req: FuzzRequest = { method: "GET", path: "/session/state", headers: { cookie }, target: "/session/state", clean: "/session/state" };
    const res = await this.exchange(req);
    if (res.kind !== "ok" || res.status !== 200) return 1;
    let got: State | undefined;
    try {
      got = (JSON.parse(res.body.toString("utf8")) as { state: State }).state;
    } catch {
      return 1;
    }
    // The dead cookie's data is unknown; any data at all means the record answered.
    if (kind === "resurrected" ? !isEmpty(got) : sameState(got, state)) {
      this.fail({
        kind,
        key: `${kind}|probe|${how.replace(/\(.*\)/, "")}|${kind === "accepted" ? how : ""}`,
        request: req,
        status: res.status,
        firstLine: firstLine(res.body),
        detail: `${how} was accepted: it read ${JSON.stringify(normal(got))}`,
        context: [...c.history],
      });
    }
    return 1;
  }

  /** A slow write of the session in flight while the same visitor logs out or logs in. */
  async race(rng: Rng, c: Client): Promise<number> {
    if (!c.cookie || !c.known) return this.sessionOp(rng, c);
    this.report.races++;
    const oldCookie = c.cookie;
    const slow = rng.range(60, 250);
    const a = rng.chance(0.5)
      ? this.opRequest(rng, c, "POST", "/session/counter")
      : this.opRequest(rng, c, "POST", "/session/cart", { product: rng.pick(PRODUCTS) });
    a.fault = { name: "slow-put", headers: { "x-kv-slow-put": String(slow) } };
    const logout = rng.chance(0.6);
    const b = logout ? this.opRequest(rng, c, "POST", "/session/logout") : this.opRequest(rng, c, "POST", "/session/login", { user: "mallory" });
    const first = this.exchange(a);
    await new Promise((r) => setTimeout(r, rng.range(5, 40)));
    const [ra, rb] = await Promise.all([first, this.exchange(b)]);
    const lines = [this.describe(a, ra), this.describe(b, rb)];
    const context = [...c.history, `together: ${lines[0]}`, `together: ${lines[1]}`];
    this.remember(c, `race: ${lines.join(" | ")}`);
    c.known = false;
    if (rb.kind !== "ok") return 2;
    const sc = sessionCookieOf(rb.setCookies);
    if (rb.status < 400 && sc && (sc.cleared || idOf(sc.value) !== idOf(oldCookie))) {
      this.adoptCookie(c, sc);
      if (sc.cleared) c.known = true;
      await this.killed({ id: idOf(oldCookie), cookie: oldCookie, how: `${logout ? "logout" : "login"} while a slow write of the same session was in flight`, request: b, context });
    }
    return 2;
  }

  // ------------------------------------------------------------ reproductions

  /** Sends each 5xx, hang and transport failure again, one at a time, dropping what it does not need. */
  async minimise(): Promise<void> {
    const merged = new Map<string, FailureClass>();
    for (const [key, cls] of this.classes) {
      const f = cls.example;
      if (f.kind === "5xx" || f.kind === "hang" || f.kind === "transport") {
        const small = await this.shrink(f);
        // One error logged is one cause, whatever request reached it; without a log, the request is the cause.
        const header = Object.keys(small.request.headers).sort().join(",");
        const key2 = small.log
          ? `${f.kind}|${small.status}|${small.log.replace(/\d+/g, "N")}`
          : `${f.kind}|${small.status}|${small.request.method}|${small.request.path}|${header}|${small.request.bodyNote ?? ""}|${small.request.fault?.name ?? ""}|${small.firstLine}`;
        const into = merged.get(key2);
        if (!into) merged.set(key2, { kind: f.kind, count: cls.count, example: small });
        else {
          into.count += cls.count;
          if (sizeOf(small.request) < sizeOf(into.example.request)) into.example = small;
        }
      } else merged.set(key, cls);
    }
    this.classes.clear();
    for (const [k, v] of merged) this.classes.set(k, v);
  }

  async shrink(f: Failure): Promise<Failure> {
    const timeout = f.kind === "hang" ? this.options.timeoutMs : Math.min(this.options.timeoutMs, 5000);
    let budget = f.kind === "hang" ? 4 : 40;
    const reproduces = async (req: FuzzRequest): Promise<Extract<Result, { kind: "ok" }> | true | false> => {
      budget--;
      const res = await this.transport.send(req, timeout);
      if (f.kind === "hang") return res.kind === "hang";
      if (f.kind === "transport") return res.kind === "error";
      return res.kind === "ok" && res.status === f.status && !(res.status === 503 && req.fault) && !(res.status === 500 && routesToBoom(req.path)) ? res : false;
    };
    let best = f.request;
    const candidates = (r: FuzzRequest): FuzzRequest[] => {
      const out: FuzzRequest[] = [];
      if (r.path !== r.clean) out.push({ ...r, path: r.clean });
      if (r.body) {
        const headers = { ...r.headers };
        delete headers["content-type"];
        out.push({ ...r, headers, body: undefined, bodyNote: undefined, chunked: undefined });
      }
      if (r.method !== "GET") out.push({ ...r, method: "GET", body: undefined, bodyNote: undefined });
      if (r.fault) out.push({ ...r, fault: undefined });
      for (const name of Object.keys(r.headers)) {
        const headers = { ...r.headers };
        delete headers[name];
        out.push({ ...r, headers });
      }
      if (r.path.includes("?")) out.push({ ...r, path: r.path.slice(0, r.path.indexOf("?")) });
      const long = /[^/]{200,}/.exec(r.path);
      if (long) out.push({ ...r, path: r.path.replace(long[0], long[0].slice(0, Math.ceil(long[0].length / 4))) });
      return out;
    };
    let progress = true;
    while (progress && budget > 0) {
      progress = false;
      for (const cand of candidates(best)) {
        if (budget <= 0) break;
        if (await reproduces(cand)) {
          best = cand;
          progress = true;
          break;
        }
      }
    }
    // Once more with workerd's output kept: kiln logs the error behind a 500.
    this.setCapture(true);
    const last = await this.transport.send(best, timeout);
    await new Promise((r) => setTimeout(r, 50));
    const output = this.captured();
    this.setCapture(false);
    const log = output.split("\n").find((l) => /Error|kiln:|Uncaught|exception/i.test(l))?.trim();
    const status = last.kind === "ok" ? last.status : last.kind;
    const reproduced = f.kind === "hang" ? last.kind === "hang" : f.kind === "transport" ? last.kind === "error" : status === f.status;
    return {
      ...f,
      request: best,
      firstLine: reproduced && last.kind === "ok" ? firstLine(last.body) : f.firstLine,
      log: log && log.length > 200 ? log.slice(0, 197) + "..." : log,
      detail: reproduced ? f.detail : `${f.detail ? f.detail + "; " : ""}did not happen again when sent alone (${status})`,
    };
  }
}

// ---------------------------------------------------------------- output

function curlish(r: FuzzRequest): string {
  const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${v.length > 80 ? v.slice(0, 60) + `... (${v.length} chars)` : v}`);
  if (r.fault) for (const [k, v] of Object.entries(r.fault.headers)) headers.push(`${k}: ${v}`);
  const path = r.path.length > 160 ? r.path.slice(0, 120) + `... (${r.path.length} chars)` : r.path;
  const shown = JSON.stringify(path).slice(1, -1);
  return `${r.method} ${shown}${headers.length ? "  [" + headers.join(" | ") + "]" : ""}${r.bodyNote ? `  body: ${r.bodyNote}` : ""}${r.chunked ? " (chunked)" : ""}`;
}

export function formatFailures(report: FuzzReport, limit = 12): string {
  const lines = [`kiln fuzz failed · seed ${report.seed} (FUZZ_SEED=${report.seed} to repeat) · ${report.classes.length} failure classes`];
  const steps = limit > 12 ? 6 : 3;
  for (const cls of report.classes.slice(0, limit)) {
    const f = cls.example;
    const status = typeof f.status === "number" ? String(f.status) : f.status;
    lines.push(`- [${cls.kind}] ×${cls.count}: ${curlish(f.request)}`);
    lines.push(`    → ${status}${f.firstLine ? ` "${f.firstLine}"` : ""}${f.log ? `  log: ${f.log}` : ""}`);
    if (f.detail) lines.push(`    ${f.detail}`);
    // The steps that led there; FUZZ_SEED repeats the whole run.
    for (const step of (f.context ?? []).slice(-steps)) lines.push(`      after: ${step}`);
  }
  if (report.classes.length > limit) lines.push(`  ... and ${report.classes.length - limit} more classes`);
  return lines.join("\n");
}

export function formatSummary(report: FuzzReport): string {
  const s = report.byStatus;
  const classes = ["1xx", "2xx", "3xx", "4xx", "5xx"].map((k) => `${k} ${s[k] ?? 0}`).join(" · ");
  const faultTotal = Object.values(report.faults).reduce((a, b) => a + b, 0);
  const faults = Object.entries(report.faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const secs = report.elapsedMs / 1000;
  return [
    `kiln fuzz · ${report.requests} requests · ${report.options.lanes} lanes`,
    `  by status:        ${classes}${s.hang ? ` · hang ${s.hang}` : ""}${s.error ? ` · connection error ${s.error}` : ""}${s["upload cut off"] ? ` · upload cut off ${s["upload cut off"]}` : ""}`,
    `  faults injected:  ${faultTotal}${faults ? ` (${faults})` : ""}`,
    `  expected 5xx:     ${report.expected500} × 500 from /boom, ${report.expected503} × 503 under a KV fault`,
    `  5xx from kiln:    ${report.unexpected5xx}`,
    `  hangs:            ${report.hangs} (over ${report.options.timeoutMs} ms)`,
    `  sessions:         ${report.sessionOps} modelled operations, ${report.races} races, ${report.deadIds} sessions ended`,
    `  lost records:     ${report.lost}   resurrected: ${report.resurrected}   bad cookies accepted: ${report.accepted}   guarded files leaked: ${report.leaked}`,
    `  time:             ${secs.toFixed(1)} s (${Math.round(report.requests / secs)} requests/s)`,
  ].join("\n");
}

export const failed = (report: FuzzReport) => report.classes.length > 0;
