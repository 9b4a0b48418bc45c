// The input rules, in-process: createHandler's fetch in plain Node with input
// support, as the entry passes it. test/input.test.ts keeps what needs
// workerd: its multipart parser, a body streamed over the wire, sessions, R2.
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import * as v from "valibot";
import { z } from "zod";
import { createHandler } from "./handler.js";
import { input, readLimited, type Fields } from "./input.js";
import type { RouteEntry } from "./router.js";
import type { EventContext, Handler } from "./types.js";
import { planRoutes } from "../compiler/route-plan.js";

const ctx = { waitUntil() {}, passThroughOnException() {} };

/** One route at /r answering with what its handler returns, as JSON. */
function app(read: (context: EventContext) => Promise<unknown>, declares?: RouteEntry["declares"]) {
  const handler: Handler = async (context) => Response.json(await read(context));
  const { fetch } = createHandler(planRoutes([{ pattern: "/r", methods: { ANY: handler }, declares }]), { input });
  return async (init: RequestInit & { url?: string } = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(new Request(`http://app.test${init.url ?? "/r"}`, { method: "POST", ...init }), {}, ctx);
    return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text() };
  };
}

const asJson = { accept: "application/json" };
const urlencoded = (body: string, headers: Record<string, string> = {}) => ({
  body,
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
});
// A boundary that no value here contains: undici's parser (Node's, not workerd's) trips on one that a value does.
const multipart = (body: string, boundary = "kiln-b0undary") => ({ body, headers: { "content-type": `multipart/form-data; boundary=${boundary}`, ...asJson } });
const part = (name: string, value: string, filename?: string, type = "text/plain") =>
  `--kiln-b0undary\r\nContent-Disposition: form-data; name="${name}"${filename === undefined ? "" : `; filename="${filename}"`}\r\n` +
  (filename === undefined ? "" : `Content-Type: ${type}\r\n`) +
  `\r\n${value}\r\n`;

/** What a handler sees of the files in a form: name, type and text. */
async function describeForm(fields: Fields) {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    const one = async (x: string | File) => (typeof x === "string" ? x : { file: x.name, type: x.type, text: await x.text() });
    out[name] = Array.isArray(value) ? await Promise.all(value.map(one)) : await one(value);
  }
  return out;
}

describe("context.form()", () => {
  const post = app(async (c) => describeForm(await c.form()));

  it("reads an urlencoded form into a plain object, repeated names as arrays", async () => {
    expect(await post(urlencoded("a=1&b=caf%C3%A9&a=2&a=3&empty="))).toEqual({ status: 200, body: { a: ["1", "2", "3"], b: "café", empty: "" } });
  });

  it("keeps __proto__ and constructor as plain fields", async () => {
    const fields = app(async (c) => {
      const f = await c.form();
      return { proto: f["__proto__"], ctor: f.constructor, keys: Object.keys(f), polluted: ({} as Record<string, unknown>).x };
    });
    expect((await fields(urlencoded("__proto__=p&constructor=c&__proto__[x]=1"))).body).toEqual({
      proto: "p",
      ctor: "c",
      keys: ["__proto__", "constructor", "__proto__[x]"],
    });
  });

  it("reads multipart fields and files; a file input left empty is left out", async () => {
    const body = part("title", "Mug") + part("tag", "a") + part("tag", "b") + part("picture", "PNG!", "mug.png", "image/png") + part("other", "", "") + "--kiln-b0undary--\r\n";
    expect(await post(multipart(body))).toEqual({
      status: 200,
      body: { title: "Mug", tag: ["a", "b"], picture: { file: "mug.png", type: "image/png", text: "PNG!" } },
    });
  });

  it("keeps only the last part of a file name: no ../, no folders, no control characters", async () => {
    const names = ["../../etc/passwd", "..\\..\\boot.ini", "..", "a\u0001b.txt"].map((n, i) => part(`f${i}`, "x", n)).join("") + "--kiln-b0undary--\r\n";
    const { body } = await post(multipart(names));
    expect(Object.values(body).map((f) => (f as { file: string }).file)).toEqual(["passwd", "boot.ini", "", "ab.txt"]);
  });

  it("answers 400 to a multipart body without a boundary or cut off, 415 to other types", async () => {
    const cut = '--kiln-b0undary\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b';
    expect((await post(multipart(cut))).status).toBe(400);
    expect((await post({ body: part("a", "1"), headers: { "content-type": "multipart/form-data", ...asJson } })).status).toBe(400);
    for (const type of ["application/json", "text/plain", "application/octet-stream"]) {
      const res = await post({ body: "a=1", headers: { "content-type": type, ...asJson } });
      expect(res, type).toEqual({ status: 415, body: { status: 415, error: expect.stringContaining("expected a form") } });
    }
  });

  it("reads a post with no body as an empty form, but a body with no type is refused", async () => {
    expect(await post({})).toEqual({ status: 200, body: {} });
    expect(await post(urlencoded(""))).toEqual({ status: 200, body: {} });
    const untyped = new Request("http://app.test/r", { method: "POST", body: new Blob(["a=1"]) });
    expect(untyped.headers.get("content-type")).toBeNull();
    expect((await post({ body: untyped.body, duplex: "half" } as RequestInit)).status).toBe(415);
  });

  it("caps text fields, files and each file's size with 413", async () => {
    const capped = app(async (c) => describeForm(await c.form(undefined, { maxFields: 2, maxFiles: 1, maxFileSize: 3 })));
    expect((await capped(urlencoded("a=1&b=2"))).status).toBe(200);
    expect((await capped(urlencoded("a=1&b=2&c=3"))).status).toBe(413);
    expect((await capped(multipart(part("f", "abc", "f.txt") + "--kiln-b0undary--\r\n"))).status).toBe(200);
    expect((await capped(multipart(part("f", "abcd", "f.txt") + "--kiln-b0undary--\r\n"))).body).toEqual({ status: 413, error: "Payload Too Large: a file is over 3 bytes" });
    expect((await capped(multipart(part("f", "a", "f.txt") + part("g", "b", "g.txt") + "--kiln-b0undary--\r\n"))).status).toBe(413);
    expect((await post(urlencoded(Array.from({ length: 1001 }, (_, i) => `f${i}=`).join("&")))).status).toBe(413);
  });

  it("takes a body exactly at the route's bodyLimit, and answers 413 one byte over", async () => {
    const limited = app(async (c) => c.form(), { bodyLimit: 10 });
    expect(await limited(urlencoded("a=12345678"))).toEqual({ status: 200, body: { a: "12345678" } });
    expect((await limited(urlencoded("a=123456789"))).status).toBe(413);
  });
});

describe("the body limit", () => {
  /** A body of 4-byte chunks that never ends, counting what was pulled and whether it was cancelled. */
  function endless(headers: Record<string, string> = {}) {
    const seen = { pulled: 0, cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        seen.pulled += 4;
        controller.enqueue(new Uint8Array(4));
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { seen, request: new Request("http://app.test/r", { method: "POST", body, headers, duplex: "half" } as RequestInit) };
  }

  it("stops reading a chunked body after limit + 1 bytes and cancels the rest", async () => {
    const { seen, request } = endless();
    await expect(readLimited(request, 10)).rejects.toMatchObject({ status: 413 });
    expect(seen.pulled).toBeLessThanOrEqual(16);
    expect(seen.cancelled).toBe(true);
  });

  it("answers from Content-Length without reading at all", async () => {
    const { seen, request } = endless({ "content-length": "11" });
    await expect(readLimited(request, 10)).rejects.toMatchObject({ status: 413 });
    expect(seen.pulled).toBeLessThanOrEqual(4); // what the stream queued before anyone asked
  });

  it("answers 400 to a body that breaks off", async () => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":'));
        controller.error(new Error("connection reset"));
      },
    });
    const json = app(async (c) => c.json());
    expect(await json({ body, duplex: "half", headers: { "content-type": "application/json", ...asJson } } as RequestInit)).toEqual({
      status: 400,
      body: { status: 400, error: "Bad Request: the body was cut off" },
    });
  });
});

describe("context.json()", () => {
  const post = app(async (c) => ({ got: await c.json() }));
  const typed = (type: string, body: BodyInit) => post({ body, headers: { "content-type": type, ...asJson } });

  it("reads application/json and any +json type, with parameters", async () => {
    expect(await typed("application/json", '{"a":[1,2]}')).toEqual({ status: 200, body: { got: { a: [1, 2] } } });
    expect((await typed("Application/JSON; charset=utf-8", "null")).body).toEqual({ got: null });
    expect((await typed("application/vnd.api+json", '"x"')).body).toEqual({ got: "x" });
  });

  it("answers 400 to malformed JSON and an empty body; reads bytes that are not UTF-8 as U+FFFD, as browsers do", async () => {
    expect(await typed("application/json", "{oops")).toEqual({ status: 400, body: { status: 400, error: "Bad Request: the body is not valid JSON" } });
    expect((await typed("application/json", "")).body.error).toBe("Bad Request: the body is empty, expected JSON");
    expect((await typed("application/json", new Uint8Array([0x22, 0xff, 0x22]))).body).toEqual({ got: "\ufffd" });
    expect((await typed("application/json", "[".repeat(100_000))).status).toBe(400);
  });

  it("answers 415 to a body of another type, or of none", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "application/jsonx"]) {
      expect((await typed(type, "{}")).status, type).toBe(415);
    }
    expect((await post({ body: null, headers: asJson })).status).toBe(415);
  });

  it("answers a browser in plain text, HEAD without a body", async () => {
    const res = await post({ body: "{", headers: { "content-type": "application/json", accept: "text/html" } });
    expect(res).toEqual({ status: 400, body: "Bad Request: the body is not valid JSON\n" });
  });
});

describe("schemas", () => {
  const Product = z.object({ id: z.string().regex(/^[a-z-]+$/), price: z.coerce.number().positive(), tags: z.array(z.string()).default([]) });

  it("returns a zod schema's output, and 422 with the messages per field", async () => {
    const post = app(async (c) => c.form(Product));
    expect(await post(urlencoded("id=mug&price=18"))).toEqual({ status: 200, body: { id: "mug", price: 18, tags: [] } });
    const bad = await post(urlencoded("id=Mug!&price=-1", asJson));
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ status: 422, error: "Unprocessable Content: the input is not valid", errors: { id: [expect.any(String)], price: [expect.any(String)] } });
  });

  it("returns a valibot schema's output; nested paths are dotted, the whole input's own issue is under \"\"", async () => {
    const Order = v.pipe(
      v.object({ items: v.array(v.object({ id: v.string(), n: v.pipe(v.number(), v.integer()) })) }),
      v.check((o) => o.items.length > 0, "an order needs an item"),
    );
    const post = app(async (c) => c.json(Order));
    const json = (body: unknown) => post({ body: JSON.stringify(body), headers: { "content-type": "application/json", ...asJson } });
    expect(await json({ items: [{ id: "mug", n: 2 }] })).toEqual({ status: 200, body: { items: [{ id: "mug", n: 2 }] } });
    expect((await json({ items: [{ id: "mug", n: 1.5 }] })).body.errors).toEqual({ "items.0.n": [expect.stringContaining("integer")] });
    expect((await json({ items: [] })).body.errors).toEqual({ "": ["an order needs an item"] });
  });

  it("awaits an async schema, and lists each message once", async () => {
    const schema = z.object({ code: z.string().refine(async (s) => s === "ok", "not ok").refine((s) => s.length > 5, "not ok") });
    const post = app(async (c) => c.form(schema));
    expect((await post(urlencoded("code=ok"))).status).toBe(422);
    expect((await post(urlencoded("code=no", asJson))).body.errors).toEqual({ code: ["not ok"] });
  });

  it("gives a route that catches InputError what it needs to show the form again", async () => {
    const post = app(async (c) => {
      try {
        return await c.form(z.object({ email: z.email("enter an email"), picture: z.instanceof(File) }));
      } catch (err) {
        const { status, errors, values } = err as import("./input.js").InputError;
        return { status, errors, values };
      }
    });
    const { body } = await post(multipart(part("email", "nope") + part("picture", "x", "p.png") + part("csrf_token", "t") + "--kiln-b0undary--\r\n"));
    expect(body).toEqual({ status: 422, errors: { email: ["enter an email"] }, values: { email: "nope" } });
  });

  it("validates the query string", async () => {
    const get = app(async (c) => c.query(z.object({ page: z.coerce.number().int().min(1).default(1), tag: z.array(z.string()).optional() })));
    expect((await get({ method: "GET", url: "/r?tag=a&tag=b" })).body).toEqual({ page: 1, tag: ["a", "b"] });
    expect((await get({ method: "GET", url: "/r?page=0", headers: asJson })).status).toBe(422);
    expect((await app(async (c) => c.query())({ method: "GET", url: "/r?a=1&a=2&b" })).body).toEqual({ a: ["1", "2"], b: "" });
  });

  it("refuses, as the app's mistake (500), a schema that is not a Standard Schema", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const post = app(async (c) => c.form({ parse() {} } as never));
    expect((await post(urlencoded("a=1"))).status).toBe(500);
    expect(String(logged.mock.calls[0][0])).toContain("is not a Standard Schema");
    logged.mockRestore();
  });

  it("types each reader's output from its schema (checked by tsc)", () => {
    const handler = async (context: EventContext) => {
      expectTypeOf(await context.form(Product)).toEqualTypeOf<{ id: string; price: number; tags: string[] }>();
      expectTypeOf(await context.json(v.object({ n: v.number() }))).toEqualTypeOf<{ n: number }>();
      expectTypeOf(await context.query(z.object({ q: z.string().optional() }))).toEqualTypeOf<{ q?: string | undefined }>();
      expectTypeOf(await context.form()).toEqualTypeOf<Fields>();
      expectTypeOf(await context.json()).toBeUnknown();
    };
    expect(handler).toBeTypeOf("function");
  });
});

describe("the bodyLimit declaration", () => {
  it.each([["1mb"], [-1], [1.5], [Infinity]])("stops the app at start-up when it is %s, naming the route", (bodyLimit) => {
    expect(() => createHandler(planRoutes([{ pattern: "/up", methods: { POST: () => new Response() }, declares: { bodyLimit } }]), { input })).toThrow(
      "route /up: bodyLimit must be a whole number of bytes",
    );
  });
});

describe("a route that reads nothing", () => {
  it("gets no input support from an app without it, and a clear error if it asks", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const handler: Handler = async (c) => Response.json(await c.form());
    const { fetch } = createHandler(planRoutes([{ pattern: "/r", methods: { POST: handler } }]));
    const res = await fetch(new Request("http://app.test/r", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } }), { DEBUG: "true" }, ctx);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("input reading is off: see docs/input.md");
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});
