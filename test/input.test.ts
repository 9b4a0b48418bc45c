// What a visitor sends, read through context.form(), json() and query() in
// workerd: its multipart parser, bodies streamed over the wire, the body
// limit per folder, the CSRF token with a real session, uploads to R2.
// The parsing rules themselves are unit-tested in src/runtime/input.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { build, formatRouteTable, loadRoutes } from "../src/compiler/index.js";
import { startApp, type TestApp } from "./helpers/app.js";

const ROOT = resolve(import.meta.dirname, "fixtures/input");
let app: TestApp;
beforeAll(async () => {
  app = await startApp(ROOT, { bindings: { SESSION_SECRET: "input-test-secret-of-32-characters!" }, r2Buckets: ["FILES"] });
});
afterAll(() => app?.dispose());

const JSON_CLIENT = { accept: "application/json" };
const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function post(path: string, body: BodyInit | null, headers: Record<string, string> = {}) {
  const res = await app.fetch(path, { method: "POST", body, headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, json: () => JSON.parse(text) };
}

/** A multipart body as a browser writes it: FormData through a Request. */
async function multipart(fill: (form: FormData) => void) {
  const form = new FormData();
  fill(form);
  const request = new Request("http://x/", { method: "POST", body: form });
  return { body: await request.text(), type: request.headers.get("content-type")! };
}

const raw = (parts: string[], boundary = "XyZ") => ({
  body: parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("") + `--${boundary}--\r\n`,
  type: `multipart/form-data; boundary=${boundary}`,
});

describe("every content type", () => {
  it("reads urlencoded and multipart forms, repeated fields as arrays", async () => {
    const url = await post("/echo", "tag=a&tag=b&name=Ada", FORM);
    expect(url.json()).toEqual({ tag: ["a", "b"], name: "Ada" });
    const { body, type } = await multipart((f) => {
      f.append("tag", "a");
      f.append("tag", "b");
      f.append("picture", new File(["12345"], "pot.png", { type: "image/png" }));
    });
    expect((await post("/echo", body, { "content-type": type })).json()).toEqual({ tag: ["a", "b"], picture: { file: "pot.png", type: "image/png", size: 5 } });
  });

  it("reads JSON and +json; refuses other types with 415", async () => {
    expect((await post("/json", '{"a":1}', { "content-type": "application/json" })).json()).toEqual({ got: { a: 1 } });
    expect((await post("/json", "[1]", { "content-type": "application/ld+json; charset=utf-8" })).json()).toEqual({ got: [1] });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      expect((await post("/json", "{}", { "content-type": type, ...JSON_CLIENT })).json(), type).toEqual({ error: "Unsupported Media Type: expected application/json", status: 415 });
    }
    for (const type of ["application/json", "text/plain", "application/octet-stream"]) {
      expect((await post("/echo", '{"a":1}', { "content-type": type })).status, type).toBe(415);
    }
  });

  it("takes empty bodies: an empty form is {}, an empty JSON body is malformed", async () => {
    expect((await post("/echo", null)).json()).toEqual({});
    expect((await post("/echo", "", FORM)).json()).toEqual({});
    const { body, type } = raw([]);
    expect((await post("/echo", body, { "content-type": type })).json()).toEqual({});
    expect(await post("/json", "", { "content-type": "application/json", ...JSON_CLIENT })).toMatchObject({ status: 400, text: expect.stringContaining("empty") });
  });
});

describe("every error status, for JSON clients and browsers", () => {
  it("400 for malformed JSON", async () => {
    const bad = await post("/json", '{"a":', { "content-type": "application/json", ...JSON_CLIENT });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: "Bad Request: the body is not valid JSON", status: 400 });
    const browser = await post("/json", '{"a":', { "content-type": "application/json", ...BROWSER });
    expect(browser).toMatchObject({ status: 400, type: "text/plain;charset=UTF-8", text: "Bad Request: the body is not valid JSON\n" });
  });

  it("413 as JSON for a client that asks, the app's public/413.html for a browser", async () => {
    const big = "a=" + "x".repeat(200);
    expect((await post("/limited/echo", big, { ...FORM, ...JSON_CLIENT })).json()).toEqual({ error: "Payload Too Large: the body is over 100 bytes", status: 413 });
    const page = await post("/limited/echo", big, { ...FORM, ...BROWSER });
    expect(page.status).toBe(413);
    expect(page.text).toContain("That upload is too large for this shop.");
  });

  it("422 with the errors per field, as JSON; a route that catches InputError shows them beside its fields", async () => {
    const api = await post("/api-signup", JSON.stringify({ email: "nope", tags: ["ok", "far-too-long-a-tag"] }), { "content-type": "application/json", ...JSON_CLIENT });
    expect(api.status).toBe(422);
    expect(api.json()).toEqual({
      error: "Unprocessable Content: the input is not valid",
      status: 422,
      errors: { email: ["Enter an email address."], "tags.1": ["Tags are 10 characters at most."] },
    });
    const plain = await post("/api-signup", JSON.stringify({ email: "nope", tags: [] }), { "content-type": "application/json" });
    expect(plain.text).toBe("Unprocessable Content: the input is not valid\nemail: Enter an email address.\n");
    const page = await post("/signup", "email=ada%40example&age=12&csrf_token=x", { ...FORM, ...BROWSER });
    expect(page.status).toBe(422);
    expect(page.text).toContain('<input name="email" value="ada@example"><p class="error" id="email-error">Enter an email address.</p>');
    expect(page.text).toContain('<input name="age" value="12"><p class="error" id="age-error">You must be 18 or over.</p>');
  });

  it("returns the schemas' typed output (zod coercion and defaults, valibot)", async () => {
    expect((await post("/signup", "email=ada%40example.com&age=36&topics=glaze", FORM)).json()).toEqual({ email: "ada@example.com", age: 36, topics: ["glaze"] });
    const created = await post("/api-signup", JSON.stringify({ email: "ada@example.com", tags: ["raku"] }), { "content-type": "application/json" });
    expect(created).toMatchObject({ status: 201, text: '{"email":"ada@example.com","tags":["raku"]}' });
    const search = await app.fetch("/search?q=mug", { headers: JSON_CLIENT });
    expect(await search.json()).toEqual({ q: "mug", page: 1 });
    expect((await app.fetch("/search?q=", { headers: JSON_CLIENT })).status).toBe(422);
  });
});

describe("the body limit", () => {
  it("takes a body exactly at the folder's bodyLimit, 413 one byte over; a nearer folder's limit wins", async () => {
    const at = "a=" + "x".repeat(98);
    expect((await post("/limited/echo", at, FORM)).status).toBe(200);
    expect((await post("/limited/echo", at + "x", FORM)).status).toBe(413);
    const json = (n: number) => JSON.stringify("x".repeat(n - 2));
    expect((await post("/limited/bigger/echo", json(1000), { "content-type": "application/json" })).status).toBe(200);
    expect((await post("/limited/bigger/echo", json(1001), { "content-type": "application/json" })).status).toBe(413);
  });
});

describe("a body whose Content-Length is over the limit", () => {
  /** The status of an upload that declares `length` bytes and sends only its first few (Miniflare's fetch would send it chunked). */
  async function answerBeforeUploading(path: string, length: number): Promise<number> {
    const url = new URL(path, await app.mf.ready);
    return new Promise((done, fail) => {
      const headers = { ...FORM, "content-length": String(length) };
      const req = request(url, { method: "POST", headers, agent: false }, (res) => {
        done(res.statusCode!);
        req.destroy();
      });
      req.on("error", () => {});
      req.write("a=xx");
      setTimeout(() => fail(new Error("no answer while the upload had not ended")), 5000).unref();
    });
  }

  it("is answered 413 before the Worker reads it: the answer comes while the client has sent 4 bytes of 10 MB", async () => {
    expect(await answerBeforeUploading("/echo", 10_000_000)).toBe(413);
    expect(await answerBeforeUploading("/limited/echo", 101)).toBe(413);
  });
});

describe("multipart edge cases, in workerd's parser", () => {
  it("answers 400 to a body without a boundary, and to a cut-off upload", async () => {
    const { body } = raw(['Content-Disposition: form-data; name="a"\r\n\r\n1']);
    expect((await post("/echo", body, { "content-type": "multipart/form-data", ...JSON_CLIENT })).json()).toEqual({
      error: "Bad Request: the body is not a valid multipart form",
      status: 400,
    });
    const cut = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG';
    expect((await post("/echo", cut, { "content-type": "multipart/form-data; boundary=XyZ" })).status).toBe(400);
    expect((await post("/echo", "garbage", { "content-type": "multipart/form-data; boundary=XyZ" })).status).toBe(400);
  });

  it("leaves out a file field with no file, and keeps only the last part of a file name", async () => {
    const { body, type } = raw([
      'Content-Disposition: form-data; name="none"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n',
      'Content-Disposition: form-data; name="evil"; filename="../../etc/passwd"\r\nContent-Type: text/plain\r\n\r\nroot',
      'Content-Disposition: form-data; name="win"; filename="..\\\\..\\\\boot.ini"\r\nContent-Type: text/plain\r\n\r\nx',
      'Content-Disposition: form-data; name="title"\r\n\r\nMug',
    ]);
    expect((await post("/echo", body, { "content-type": type })).json()).toEqual({
      evil: { file: "passwd", type: "text/plain", size: 4 },
      win: { file: "boot.ini", type: "text/plain", size: 1 },
      title: "Mug",
    });
  });
});

describe("forms on a route that uses the session (CSRF token)", () => {
  /** A visitor with a session, and the token of that session. */
  async function visitor() {
    const res = await app.fetch("/note");
    const cookie = res.headers.get("set-cookie")!.split(";")[0];
    return { cookie, token: await res.text() };
  }

  it("refuses a form with the session cookie and no token when the browser sends no Fetch Metadata", async () => {
    const { cookie, token } = await visitor();
    const without = await post("/note", "note=hi", { ...FORM, cookie, ...JSON_CLIENT });
    expect(without.json()).toEqual({ error: "Forbidden: missing or invalid CSRF token", status: 403 });
    expect((await post("/note", "note=hi&csrf_token=forged", { ...FORM, cookie })).status).toBe(403);
    expect((await post("/note", `note=hi&csrf_token=${token}`, { ...FORM, cookie })).text).toBe("saved hi");
    expect((await post("/note", "note=header", { ...FORM, cookie, "x-csrf-token": token })).text).toBe("saved header");
  });

  it("lets a same-origin form by Fetch Metadata through without a token, and a visitor without a session", async () => {
    const { cookie } = await visitor();
    expect((await post("/note", "note=hi", { ...FORM, cookie, "sec-fetch-site": "same-origin" })).text).toBe("saved hi");
    expect((await post("/note", "note=new", FORM)).text).toBe("saved new");
  });

  it("takes the token out of what the route reads", async () => {
    const { cookie, token } = await visitor();
    const { body, type } = await multipart((f) => {
      f.append("csrf_token", token);
      f.append("a", "1");
    });
    expect((await post("/echo", body, { "content-type": type, cookie })).json()).toEqual({ a: "1" });
  });
});

describe("uploads to R2", () => {
  /** A browser's multipart upload of one file, as bytes. */
  async function upload(file: File) {
    const form = new FormData();
    form.append("file", file);
    const request = new Request("http://x/", { method: "POST", body: form });
    return post("/files", await request.arrayBuffer(), { "content-type": request.headers.get("content-type")!, ...JSON_CLIENT });
  }

  it("puts a picture from context.form() in R2 and serves it back, byte for byte", async () => {
    const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
    const saved = await upload(new File([bytes], "kiln.png", { type: "image/png" }));
    expect(saved.json()).toEqual({ saved: "kiln.png", size: 50_000 });
    const back = await app.fetch("/files/kiln.png");
    expect(back.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(bytes);
  });

  it("refuses a file of another type (422) and one over the per-file limit (413)", async () => {
    const svg = await upload(new File(["<svg/>"], "x.svg", { type: "image/svg+xml" }));
    expect(svg.json()).toMatchObject({ status: 422, errors: { file: ["A PNG or JPEG picture, please."] } });
    const big = await upload(new File([new Uint8Array(100_001)], "big.png", { type: "image/png" }));
    expect(big.json()).toEqual({ error: "Payload Too Large: a file is over 100000 bytes", status: 413 });
    expect((await app.fetch("/files/big.png")).status).toBe(404);
  });
});

describe("the log", () => {
  it("has nothing for the clients' mistakes above: a 4xx is not a failure of the app", () => {
    expect(app.output()).not.toMatch(/InputError|Error:/);
  });
});

describe("the bodyLimit declaration", () => {
  it("is printed by kiln routes, with the folder it comes from", async () => {
    const table = formatRouteTable(await loadRoutes(ROOT));
    expect(table).toMatch(/\/limited\/bigger\/echo .* bodyLimit=1000 \(limited\/bigger\/_middleware\.ts\)/);
    expect(table).toMatch(/\/files .* bodyLimit=200_000\n/);
  });
});

describe("what an app ships", () => {
  it("bundles input support only into apps that read input", async () => {
    const out = join(import.meta.dirname, ".tmp", `input-entry-${process.pid}`);
    const reads = await build({ root: ROOT, out: join(out, "a.ts") });
    expect(readFileSync(reads.outFile, "utf8")).toMatch(/import \{ input \} from ".*input\.js"/);
    const none = await build({ root: resolve(import.meta.dirname, "fixtures/csrf"), out: join(out, "b.ts") });
    expect(readFileSync(none.outFile, "utf8")).not.toContain("input");
  });

  it("answers an InputError that a handler throws itself, in an app that reads no input: the error carries its answer", async () => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    // Inside the repository, so that "kiln" resolves to this package, as in an app that installed it.
    const root = join(import.meta.dirname, ".tmp", `thrown-input-error-${process.pid}`);
    mkdirSync(join(root, "functions"), { recursive: true });
    writeFileSync(join(root, "functions/check.ts"), `import { InputError } from "kiln";
export const onRequestGet = ({ request }) => {
  if (!new URL(request.url).searchParams.get("name")) throw new InputError(422, "Unprocessable Content", { name: ["required"] });
  return new Response("ok");
};
`);
    const app = await startApp(root);
    try {
      const json = await app.fetch("/check", { headers: { accept: "application/json" } });
      expect([json.status, await json.json()]).toEqual([422, { error: "Unprocessable Content", status: 422, errors: { name: ["required"] } }]);
      const text = await app.fetch("/check");
      expect([text.status, await text.text()]).toEqual([422, "Unprocessable Content\nname: required\n"]);
      expect((await app.fetch("/check?name=a")).status).toBe(200);
    } finally {
      await app.dispose();
    }
    expect(readFileSync((await build({ root })).outFile, "utf8")).not.toContain("input.js");
  });
});

describe("bodies no form and no JSON reader expected", () => {
  /** A seeded generator, so a failure names the body that caused it. */
  function random(seed: number) {
    return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  }
  const PIECES = ["--XyZ", "\r\n", "Content-Disposition: form-data", '; name="a"', '; filename="../x"', "Content-Type: image/png", "=", "&", "%", "%zz", "{", '"', "[", "\u0000", "\xff", "a", "--XyZ--", "__proto__"];
  const TYPES = ["multipart/form-data; boundary=XyZ", "multipart/form-data", "multipart/form-data; boundary=", "application/x-www-form-urlencoded", "application/json", "text/plain", "", "application/json; charset=latin1"];

  it("never makes a 500: 300 seeded bodies of form and JSON pieces, to both readers", async () => {
    const next = random(14);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
    for (let i = 0; i < 300; i++) {
      const body = Array.from({ length: Math.floor(next() * 12) }, () => pick(PIECES)).join("");
      const type = pick(TYPES);
      const res = await post(i % 2 ? "/echo" : "/json", body, type ? { "content-type": type } : {});
      expect(res.status, `${type} ${JSON.stringify(body)}`).toBeLessThan(500);
    }
  }, 60_000);
});

// Last: the connection it leaves behind is cut mid-body.
describe("a body over the limit, sent slowly", () => {
  it("answers a slow chunked body over the limit with 413 long before it ends, and stops reading it", async () => {
    // 64 KiB every 5 ms, 40 MiB in all: about 3 s if the Worker read it whole.
    const CHUNK = 64 * 1024, TOTAL = 40 * 1024 * 1024;
    let sent = 0;
    let stop = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (stop || sent >= TOTAL) return controller.close();
        await new Promise((r) => setTimeout(r, 5));
        sent += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(97));
      },
    });
    const res = await app.fetch("/echo", { method: "POST", body, headers: { ...FORM, ...JSON_CLIENT }, duplex: "half" } as RequestInit);
    const sentWhenAnswered = sent;
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "Payload Too Large: the body is over 1000000 bytes", status: 413 });
    // What the Worker read (1 MB), plus what the sockets buffer on the way: far from the whole body.
    expect(sentWhenAnswered).toBeLessThan(TOTAL / 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent - sentWhenAnswered).toBeLessThan(TOTAL / 4); // the reading stopped, it did not go on to the end
    stop = true;
  });
});
