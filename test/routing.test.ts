import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

const fixture = (name: string) => resolve(import.meta.dirname, "fixtures", name);

let app: TestApp;
beforeAll(async () => {
  app = await startApp(fixture("routes"));
});
afterAll(() => app?.dispose());

const text = async (path: string, init?: RequestInit) => (await app.fetch(path, init)).text();

describe("the route table of the design", () => {
  it("serves functions/index.ts at /", async () => {
    expect(await text("/")).toBe("home");
  });

  it("serves about.ts and blog/index.ts at their folder path, with or without a trailing slash", async () => {
    expect(await text("/about")).toBe("about");
    expect(await text("/about/")).toBe("about");
    expect(await text("/blog")).toBe("blog index");
    expect(await text("/blog/")).toBe("blog index");
  });

  it("gives [id] one URL-decoded segment", async () => {
    const res = await app.fetch("/users/J%C3%BCrgen%20K");
    expect(await res.json()).toEqual({ id: "Jürgen K", functionPath: "/users/:id" });
    expect(await (await app.fetch("/users/a%2Fb")).json()).toMatchObject({ id: "a/b" });
  });

  it("does not let [id] match an empty segment or more than one", async () => {
    expect((await app.fetch("/users/1/2")).status).toBe(404);
    expect((await app.fetch("/users//")).status).toBe(404);
  });

  it("gives [[path]] a string[], [] when empty", async () => {
    expect(await (await app.fetch("/files")).json()).toEqual({ path: [] });
    expect(await (await app.fetch("/files/")).json()).toEqual({ path: [] });
    expect(await (await app.fetch("/files/a/b%20c/d")).json()).toEqual({ path: ["a", "b c", "d"] });
  });

  it("matches a literal file name against the decoded path", async () => {
    expect(await text("/caf%C3%A9")).toBe("coffee");
  });

  it("treats files without handlers as helpers, not routes", async () => {
    expect(await text("/shout")).toBe("QUIET");
    expect((await app.fetch("/lib/format")).status).toBe(404);
  });
});

describe("precedence", () => {
  it("prefers a literal to a [param]", async () => {
    expect(await text("/users/new")).toBe("new user form");
    expect(await (await app.fetch("/users/newer")).json()).toMatchObject({ id: "newer" });
  });

  it("prefers index.ts to a root [[catchall]] (workers-sdk #3406)", async () => {
    const catchall = await startApp(fixture("catchall"));
    try {
      expect(await (await catchall.fetch("/")).text()).toBe("index");
      expect(await (await catchall.fetch("/a/b")).json()).toEqual(["a", "b"]);
      expect(await (await catchall.fetch("/a")).json()).toEqual(["a"]);
    } finally {
      await catchall.dispose();
    }
  });
});

describe("middleware and handler arrays", () => {
  it("runs middleware outermost first, then each handler of an array through next()", async () => {
    const res = await app.fetch("/api/items/7");
    expect(await res.json()).toEqual({ id: "7", trace: ["root", "api", "first", "second"] });
    expect(res.headers.get("x-root-middleware")).toBe("1");
    expect(res.headers.get("x-api-middleware")).toBe("1");
  });

  it("runs a folder's middleware for paths under it that no route serves", async () => {
    const res = await app.fetch("/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.headers.get("x-api-middleware")).toBe("1");
    expect(res.headers.get("x-root-middleware")).toBe("1");
  });

  it("does not run a folder's middleware outside it", async () => {
    const res = await app.fetch("/about");
    expect(res.headers.get("x-root-middleware")).toBe("1");
    expect(res.headers.has("x-api-middleware")).toBe(false);
  });

  it("lets a middleware's onRequestOptions answer preflights under its folder", async () => {
    const res = await app.fetch("/api/items/7", { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("keeps method, headers and body when next() moves the request to another URL", async () => {
    const res = await app.fetch("/api/echo", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "payload",
    });
    expect(await res.json()).toEqual({
      method: "POST",
      url: "http://localhost/api/echo?moved=1",
      type: "text/plain",
      body: "payload",
    });
  });

  it("applies next()'s init over the current request", async () => {
    const res = await app.fetch("/api/echo", { method: "PUT", headers: { "x-via": "client" } });
    expect(await res.json()).toEqual({ method: "PATCH", url: "http://localhost/api/echo?put=1", via: "init" });
  });

  it("gives each handler the Pages Functions context", async () => {
    expect(await (await app.fetch("/context?q=1")).json()).toEqual({
      url: "http://localhost/context?q=1",
      env: "object",
      trace: ["root"],
      functionPath: "/context",
      next: "function",
      passThroughOnException: "function",
    });
  });

  it("serves a static file under another name through next(url), with html_handling", async () => {
    const res = await app.fetch("/alias/page");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("<h1>page</h1>\n");
    expect((await app.fetch("/alias/nothing")).status).toBe(404);
  });

  it("falls back to the static files when the last handler calls next()", async () => {
    const res = await app.fetch("/api/fallthrough");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello from public\n");
  });
});

describe("Pages Functions compatibility", () => {
  it.each([
    ["a guarded static file, through the fallback", "/mutable/file.txt", "a guarded file\n"],
    ["a static file through next(url)", "/mutable/anything?to=/hello.txt", "hello from public\n"],
    ["a static file's own response, passed through by a handler", "/mutable/passthrough", "hello from public\n"],
  ])("lets a middleware change the headers of next()'s response: %s", async (_, path, body) => {
    const res = await app.fetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-mutated")).toBe("1");
    expect(await res.text()).toBe(body);
  });

  it("refuses context.data that is not an object, as Pages does", async () => {
    expect(await (await app.fetch("/mutable/data")).json()).toEqual({
      tried: {
        string: "TypeError: context.data must be an object",
        null: "TypeError: context.data must be an object",
        number: "TypeError: context.data must be an object",
      },
      data: { ok: true },
    });
  });
});

describe("HTTP behaviour the framework owns", () => {
  it("answers HEAD with the GET handler, without a body", async () => {
    const res = await app.fetch("/users/5", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.text()).toBe("");
  });

  it("answers HEAD for a GET handler whose response has no body", async () => {
    const res = await app.fetch("/empty", { method: "HEAD" });
    expect(res.status).toBe(204);
    expect(res.headers.get("x-empty")).toBe("1");
  });

  it("answers another method on an existing path with 405 and Allow", async () => {
    const res = await app.fetch("/users/5", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, DELETE, HEAD, OPTIONS");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("answers OPTIONS with 204 and Allow", async () => {
    const res = await app.fetch("/about", { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("lets onRequest answer any method", async () => {
    expect(await text("/anything", { method: "PATCH" })).toBe("any PATCH");
    expect(await text("/anything", { method: "OPTIONS" })).toBe("any OPTIONS");
    expect(await text("/anything", { method: "PROPFIND" })).toBe("any PROPFIND");
  });

  it("answers 404 when nothing matches and no asset exists, and serves assets that do", async () => {
    expect((await app.fetch("/no/such/page")).status).toBe(404);
    expect(await text("/hello.txt")).toBe("hello from public\n");
  });

  it("answers a browser that also accepts JSON with text, not JSON", async () => {
    const res = await app.fetch("/users/5", { method: "POST", headers: { accept: "text/html,application/json;q=0.9" } });
    expect(await res.text()).toBe("Method Not Allowed\n");
  });

  it("answers JSON errors to clients that ask for JSON", async () => {
    const res = await app.fetch("/no/such/page", { headers: { accept: "application/json" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Not Found", status: 404 });
  });

  it.each(["/users/%E0%A4%A", "/users/%zz", "/%", "/files/a/%C3%28"])("answers 400 to malformed percent-encoding: %s", async (path) => {
    const res = await app.fetch(path);
    expect(res.status).toBe(400);
  });

  it("answers 500 without the message or stack when a handler throws", async () => {
    const res = await app.fetch("/boom");
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain("hunter2");
    expect(body).not.toContain("boom.ts");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 500 when a handler returns something that is not a Response", async () => {
    expect((await app.fetch("/boom", { method: "POST" })).status).toBe(500);
  });

  it("lets passThroughOnException hand a failure to the static files", async () => {
    expect((await app.fetch("/pass")).status).toBe(404);
  });

  it("shows the error when DEBUG is on, as text or JSON", async () => {
    const debug = await startApp(fixture("routes"), { bindings: { DEBUG: "true" } });
    try {
      const res = await debug.fetch("/boom");
      expect(res.status).toBe(500);
      expect(await res.text()).toContain("hunter2");
      const json = await debug.fetch("/boom", { headers: { accept: "application/json" } });
      expect(await json.json()).toMatchObject({ status: 500, detail: expect.stringContaining("hunter2") });
    } finally {
      await debug.dispose();
    }
  });
});
