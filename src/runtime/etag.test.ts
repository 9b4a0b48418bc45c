// Conditional GET, called directly: `conditional` decides 304s, `validate` is
// the fetch handler's last step for GET and HEAD (ETag, then 304).
import { describe, expect, it } from "vitest";
import { conditional, etagsOf, validate } from "./etag.js";
import { htmlResponse } from "./html.js";

const get = (headers: Record<string, string> = {}, method = "GET") => new Request("http://localhost/page", { method, headers });
const page = (headers: Record<string, string> = {}, status = 200, body: BodyInit | null = "hello") => new Response(body, { status, headers });

/** MurmurHash3 x86_128 (seed 0) as its reference implementation defines it, written out plainly: h1..h4. */
function murmur3x86128(bytes: Uint8Array): number[] {
  const c = [0x239b961b, 0xab0e9789, 0x38b34ae5, 0xa1e38b93];
  const rot = [15, 16, 17, 18];
  const hrot = [19, 17, 15, 13];
  const add = [0x561ccd1b, 0x0bcaa747, 0x96cd1c35, 0x32ac3b17];
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
  const word = (at: number) => (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  const mix = (k: number, lane: number) => mul(rotl(mul(k, c[lane]), rot[lane]), c[(lane + 1) % 4]);
  const h = [0, 0, 0, 0];
  const blocks = Math.floor(bytes.length / 16);
  for (let b = 0; b < blocks; b++) {
    for (let lane = 0; lane < 4; lane++) {
      h[lane] = (h[lane] ^ mix(word(b * 16 + lane * 4), lane)) >>> 0;
      h[lane] = (mul(rotl(h[lane], hrot[lane]) + h[(lane + 1) % 4], 5) + add[lane]) >>> 0;
    }
  }
  const tail = [0, 0, 0, 0];
  for (let i = blocks * 16; i < bytes.length; i++) tail[Math.floor((i % 16) / 4)] |= bytes[i] << ((i % 4) * 8);
  for (let lane = 0; lane < 4; lane++) if (tail[lane] || bytes.length > blocks * 16 + lane * 4) h[lane] = (h[lane] ^ mix(tail[lane] >>> 0, lane)) >>> 0;
  for (let lane = 0; lane < 4; lane++) h[lane] = (h[lane] ^ bytes.length) >>> 0;
  const spread = () => {
    h[0] = (h[0] + h[1] + h[2] + h[3]) >>> 0;
    for (let lane = 1; lane < 4; lane++) h[lane] = (h[lane] + h[0]) >>> 0;
  };
  const fmix = (x: number) => {
    x = mul(x ^ (x >>> 16), 0x85ebca6b);
    x = mul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  spread();
  for (let lane = 0; lane < 4; lane++) h[lane] = fmix(h[lane]);
  spread();
  return h;
}

/** The strong ETag kiln gives a body: MurmurHash3 x86_128 of its bytes, then the length's low 2 bytes, base64url. */
function etagFor(body: string | Uint8Array): string {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const out = Buffer.alloc(18);
  murmur3x86128(bytes).forEach((h, i) => out.writeUInt32LE(h, i * 4));
  out.writeUInt16LE(bytes.length & 0xffff, 16);
  return `"${out.toString("base64url")}"`;
}

describe("the ETag's hash", () => {
  it("is MurmurHash3 x86_128: the reference implementation's values", () => {
    // From the C reference (smhasher), through Python's mmh3.hash128(x, 0, x64arch=False), as little-endian bytes.
    const hex = (s: string) => Buffer.concat(murmur3x86128(new TextEncoder().encode(s)).map((h) => { const b = Buffer.alloc(4); b.writeUInt32LE(h); return b; })).toString("hex");
    expect(hex("")).toBe("00000000000000000000000000000000");
    expect(hex("hello")).toBe("a044242bf7de91dbb631db9ab631db9a");
    expect(hex("hello, world")).toBe("5c60218b1e8ab9b9833a2793c75759eb");
    expect(hex("0123456789abcdef")).toBe("09447dfb0ad3ae369b1dad48fd3b2b57");
    expect(hex("0123456789abcdefg")).toBe("36981f7f76386b5130c029ac74f3d6f9");
    expect(hex("café — ünïcode")).toBe("b0c3ad9a00ceb522822b2fc86ff1eab0");
  });

  it("tags bodies of every length, from a string and from bytes at any offset alike", async () => {
    const cached = { "cache-control": "max-age=60" };
    for (const n of [0, 1, 3, 4, 15, 16, 17, 31, 33, 1000, 70_000, 400_000]) {
      const text = "é<".repeat(n).slice(0, n);
      expect((await validate(get(), htmlResponse(text, { headers: cached }))).headers.get("etag")).toBe(etagFor(text));
      const bytes = new TextEncoder().encode("x" + text).subarray(1);
      expect((await validate(get(), page(cached, 200, bytes))).headers.get("etag")).toBe(etagFor(text));
    }
  });
});

const LAST_MODIFIED = "Wed, 01 Apr 2026 12:00:00 GMT";

describe("conditional: If-None-Match", () => {
  it.each([
    ['"v1"', '"v1"'],
    ['"v0", "v1"', '"v1"'],
    ['"v0","v1"', '"v1"'],
    ['W/"v1"', '"v1"'],
    ['"v1"', 'W/"v1"'],
    ['W/"v0", W/"v1"', 'W/"v1"'],
    ["*", '"anything"'],
    [" * ", '"anything"'],
    ['"a,b"', '"a,b"'],
  ])("If-None-Match %s matches ETag %s: 304", (inm, etag) => {
    expect(conditional(get({ "if-none-match": inm }), page({ etag })).status).toBe(304);
  });

  it.each([
    ['"v0"', '"v1"'],
    ['"v1', '"v1"'],
    ['"a", "b"', '"a,b"'],
    ['"V1"', '"v1"'],
    ["", '"v1"'],
  ])("If-None-Match %s does not match ETag %s: the response as it was", (inm, etag) => {
    const response = page({ etag });
    expect(conditional(get({ "if-none-match": inm }), response)).toBe(response);
  });

  it("without an ETag only * matches", () => {
    expect(conditional(get({ "if-none-match": '"v1"' }), page()).status).toBe(200);
    expect(conditional(get({ "if-none-match": "*" }), page()).status).toBe(304);
  });

  it("reads ETags as quoted strings, commas inside them included", () => {
    expect(etagsOf('"a,b", W/"c", junk, "d"')).toEqual(['"a,b"', 'W/"c"', '"d"']);
    expect(etagsOf(" * ")).toEqual(["*"]);
  });
});

describe("conditional: If-Modified-Since", () => {
  it.each([
    [LAST_MODIFIED, 304],
    ["Wed, 01 Apr 2026 12:00:01 GMT", 304],
    ["Wed, 01 Apr 2026 11:59:59 GMT", 200],
    ["not a date", 200],
  ])("If-Modified-Since %s against Last-Modified of 12:00:00: %i", (since, status) => {
    expect(conditional(get({ "if-modified-since": since }), page({ "last-modified": LAST_MODIFIED })).status).toBe(status);
  });

  it("is ignored when the response has no Last-Modified", () => {
    expect(conditional(get({ "if-modified-since": LAST_MODIFIED }), page()).status).toBe(200);
  });

  it("is ignored when If-None-Match is there, even if it would match", () => {
    const response = page({ etag: '"v1"', "last-modified": LAST_MODIFIED });
    expect(conditional(get({ "if-none-match": '"v0"', "if-modified-since": LAST_MODIFIED }), response).status).toBe(200);
  });
});

describe("conditional: what a 304 is", () => {
  it.each([201, 204, 206, 301, 404, 500])("a %i is never turned into a 304", (status) => {
    const response = page({ etag: '"v1"', "last-modified": LAST_MODIFIED }, status, status === 204 ? null : "x");
    expect(conditional(get({ "if-none-match": '"v1"' }), response)).toBe(response);
    expect(conditional(get({ "if-modified-since": LAST_MODIFIED }), response)).toBe(response);
  });

  it("keeps the validators and caching headers, drops the body and its headers", async () => {
    const kept = {
      "cache-control": "public, max-age=60",
      "content-location": "/page.html",
      date: LAST_MODIFIED,
      etag: '"v1"',
      expires: "Wed, 01 Apr 2026 13:00:00 GMT",
      vary: "Accept",
      "last-modified": LAST_MODIFIED,
      "x-kiln-cache": "HIT",
    };
    const response = page({ ...kept, "content-type": "text/html", "set-cookie": "a=1", "x-other": "1" });
    const out = conditional(get({ "if-none-match": '"v1"' }), response);
    expect(out.status).toBe(304);
    expect(Object.fromEntries(out.headers)).toEqual(kept);
    expect(out.body).toBe(null);
  });
});

describe("validate: the ETag step of every GET and HEAD", () => {
  it("tags a cacheable 200 with a strong ETag of its bytes, keeping the body", async () => {
    const out = await validate(get(), page({ "cache-control": "max-age=60" }));
    expect(out.headers.get("etag")).toBe(etagFor("hello"));
    expect(await out.text()).toBe("hello");
  });

  it("answers 304 to a client that has those bytes", async () => {
    const out = await validate(get({ "if-none-match": etagFor("hello") }), page({ "cache-control": "max-age=60" }));
    expect(out.status).toBe(304);
    expect(out.headers.get("etag")).toBe(etagFor("hello"));
    expect(out.headers.get("cache-control")).toBe("max-age=60");
  });

  it.each([
    ["no Cache-Control", {}, 200],
    ["no-store", { "cache-control": "private, no-store" }, 200],
    ["no-store with a value", { "cache-control": "no-store=1" }, 200],
    ["a 206", { "cache-control": "max-age=60" }, 206],
    ["a 404", { "cache-control": "max-age=60" }, 404],
  ])("leaves %s untouched", async (_, headers, status) => {
    const response = page(headers, status);
    expect(await validate(get({ "if-none-match": "*" }), response)).toBe(response);
  });

  it("tags a 2xx other than 200, but never answers it 304", async () => {
    const out = await validate(get({ "if-none-match": etagFor("hello") }), page({ "cache-control": "max-age=60" }, 201));
    expect(out.status).toBe(201);
    expect(out.headers.get("etag")).toBe(etagFor("hello"));
  });

  it("tags private responses and words that only contain no-store", async () => {
    for (const cc of ["private", "x-no-storey"]) expect((await validate(get(), page({ "cache-control": cc }))).headers.get("etag")).toBe(etagFor("hello"));
  });

  it("keeps the route's own ETag and compares against it", async () => {
    const out = await validate(get({ "if-none-match": 'W/"mine"' }), page({ "cache-control": "max-age=60", etag: '"mine"' }));
    expect(out.status).toBe(304);
    expect(out.headers.get("etag")).toBe('"mine"');
  });

  it("tags a stream whose chunks are queued, and sends them unchanged", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("hel"));
        c.enqueue(new TextEncoder().encode("lo"));
        c.close();
      },
    });
    const out = await validate(get(), page({ "cache-control": "max-age=60" }, 200, body));
    expect(out.headers.get("etag")).toBe(etagFor("hello"));
    expect(await out.text()).toBe("hello");
  });

  it("never holds back a body that waits on I/O: no ETag, and it streams as it was", async () => {
    let push!: (text: string) => void;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        push = (text) => (c.enqueue(new TextEncoder().encode(text)), c.close());
      },
    });
    const out = await validate(get(), page({ "cache-control": "max-age=60" }, 200, body));
    expect(out.headers.has("etag")).toBe(false);
    push("later");
    expect(await out.text()).toBe("later");
  });

  it("does not hash a body over 1 MiB", async () => {
    const big = new Uint8Array((1 << 20) + 1);
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(big.subarray(0, 1 << 20));
        c.enqueue(big.subarray(1 << 20));
        c.close();
      },
    });
    const out = await validate(get(), page({ "cache-control": "max-age=60" }, 200, chunks));
    expect(out.headers.has("etag")).toBe(false);
    expect((await out.arrayBuffer()).byteLength).toBe((1 << 20) + 1);
  });

  it("tags an empty body, and a HEAD without a body is compared without hashing", async () => {
    expect((await validate(get(), page({ "cache-control": "max-age=60" }, 200, null))).headers.get("etag")).toBe(etagFor(""));
    const head = await validate(get({ "if-none-match": '"v1"' }, "HEAD"), page({ "cache-control": "max-age=60" }, 200, null));
    expect(head.headers.has("etag")).toBe(false);
    expect(head.status).toBe(200);
  });
});

describe("validate: pages kiln made from a string (htmlResponse, render)", () => {
  const cached = { "cache-control": "max-age=60" };

  it("tags them from their text with the same tag as the same bytes read from a stream, in place", async () => {
    const text = "<p>café — ünïcode</p>";
    const made = htmlResponse(text, { headers: cached });
    const out = (await validate(get(), made)) as Response;
    expect(out).toBe(made);
    expect(out.headers.get("etag")).toBe(etagFor(text));
    const streamed = (await validate(get(), page(cached, 200, text))) as Response;
    expect(streamed.headers.get("etag")).toBe(etagFor(text));
    expect(await out.text()).toBe(text);
  });

  it("gives a changed page a new tag, and the same page its tag again", async () => {
    const tag = async (text: string) => ((await validate(get(), htmlResponse(text, { headers: cached }))) as Response).headers.get("etag");
    expect(await tag("<p>one</p>")).toBe(etagFor("<p>one</p>"));
    expect(await tag("<p>one!</p>")).toBe(etagFor("<p>one!</p>"));
    expect(await tag("<p>one</p>")).toBe(etagFor("<p>one</p>"));
  });

  it("answers 304 from the text's tag", async () => {
    const text = "<p>same</p>";
    const res = await validate(get({ "if-none-match": etagFor(text) }), htmlResponse(text, { headers: cached }));
    expect(res.status).toBe(304);
  });
});
