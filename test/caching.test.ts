// Cache-Control, ETags, conditional requests (RFC 9110) and the edge cache,
// inside workerd with miniflare's real Cache API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(resolve(import.meta.dirname, "fixtures/caching"), { bindings: { SESSION_SECRET: "caching-test-secret-of-32-characters" } });
});
afterAll(() => app?.dispose());

const get = (path: string, headers: Record<string, string> = {}, method = "GET") => app.fetch(path, { method, headers });
const PAYLOAD = Array.from({ length: 4000 }, (_, i) => String(i).padStart(9, "0") + "\n").join("");

describe("a route's Cache-Control", () => {
  it.each([
    ["/policy", "max-age=60, s-maxage=600, stale-while-revalidate=30"],
    ["/immutable", "public, immutable, max-age=31536000"],
    ["/string", "private, max-age=10"],
    ["/nostore", "no-store"],
    ["/nocache", "no-cache, must-revalidate, proxy-revalidate, stale-if-error=60"],
    ["/own-header", "max-age=5"],
  ])("%s: %s", async (path, header) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe(header);
  });

  it("applies to HEAD too, without a body", async () => {
    const res = await get("/policy", {}, "HEAD");
    expect(res.headers.get("cache-control")).toBe("max-age=60, s-maxage=600, stale-while-revalidate=30");
    expect(res.headers.get("etag")).toBeTruthy();
    expect(await res.text()).toBe("");
  });

  it("leaves framework errors no-store", async () => {
    expect((await get("/no-such-route")).headers.get("cache-control")).toBe("no-store");
    expect((await get("/policy", {}, "DELETE")).headers.get("cache-control")).toBe("no-store");
    expect((await get("/missing")).headers.get("cache-control")).toBeNull(); // the handler's own 404, untouched
  });
});

describe("ETags and conditional requests", () => {
  let etag: string;
  beforeAll(async () => {
    etag = (await get("/policy")).headers.get("etag")!;
  });

  it("gives a cacheable 200 a strong ETag, the same for the same body", async () => {
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
    expect((await get("/policy")).headers.get("etag")).toBe(etag);
    expect((await get("/nostore")).headers.has("etag")).toBe(false);
  });

  it("answers If-None-Match with 304, keeping the validators and Cache-Control", async () => {
    const res = await get("/policy", { "if-none-match": etag });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("etag")).toBe(etag);
    expect(res.headers.get("cache-control")).toBe("max-age=60, s-maxage=600, stale-while-revalidate=30");
    expect(res.headers.get("vary")).toBe("Accept-Language");
    expect(res.headers.get("content-location")).toBe("/policy.txt");
    expect(res.headers.get("date")).toBe("Wed, 25 Nov 2026 03:00:00 GMT");
    expect(res.headers.has("x-other")).toBe(false);
  });

  it("accepts lists, weak forms and *", async () => {
    expect((await get("/policy", { "if-none-match": `"nope", ${etag}` })).status).toBe(304);
    expect((await get("/policy", { "if-none-match": `W/${etag}` })).status).toBe(304);
    expect((await get("/policy", { "if-none-match": "*" })).status).toBe(304);
    expect((await get("/policy", { "if-none-match": '"nope", W/"other"' })).status).toBe(200);
    expect((await get("/etagged", { "if-none-match": '"v1"' })).status).toBe(304);
  });

  it("answers HEAD conditionally too", async () => {
    expect((await get("/policy", { "if-none-match": etag }, "HEAD")).status).toBe(304);
  });

  it("honours If-Modified-Since against the handler's Last-Modified, and keeps Expires", async () => {
    const res = await get("/dated", { "if-modified-since": "Tue, 03 Nov 2026 10:00:00 GMT" });
    expect(res.status).toBe(304);
    expect(res.headers.get("expires")).toBe("Wed, 04 Nov 2026 10:00:00 GMT");
    expect((await get("/dated", { "if-modified-since": "Mon, 02 Nov 2026 10:00:00 GMT" })).status).toBe(200);
    expect((await get("/dated", { "if-modified-since": "not a date" })).status).toBe(200);
  });

  it("lets If-None-Match win over If-Modified-Since", async () => {
    const res = await get("/dated", { "if-none-match": '"stale"', "if-modified-since": "Tue, 03 Nov 2026 10:00:00 GMT" });
    expect(res.status).toBe(200);
  });

  it("never turns a non-2xx into a 304, even for If-None-Match: *", async () => {
    expect((await get("/missing", { "if-none-match": "*" })).status).toBe(404);
    expect((await get("/no-such-route", { "if-none-match": "*" })).status).toBe(404);
  });

  it("does not hold back a streamed body to hash it", async () => {
    const res = await get("/stream");
    expect(res.headers.has("etag")).toBe(false);
    expect(res.headers.get("cache-control")).toBe("max-age=60");
    expect(await res.text()).toBe("one two three");
  });

  it("answers If-Match and If-Unmodified-Since on unsafe methods with 412 when the resource changed", async () => {
    const current = (await get("/resource")).headers.get("etag")!;
    const stale = await app.fetch("/resource", { method: "PUT", headers: { "if-match": '"old"' }, body: "version 2" });
    expect(stale.status).toBe(412);
    expect(await (await get("/resource")).text()).toBe("version 1");
    const weak = await app.fetch("/resource", { method: "PUT", headers: { "if-match": `W/${current}` }, body: "version 2" });
    expect(weak.status).toBe(412); // If-Match compares strongly
    const ok = await app.fetch("/resource", { method: "PUT", headers: { "if-match": current }, body: "version 2" });
    expect(ok.status).toBe(200);
    expect(await (await get("/resource")).text()).toBe("version 2");
    const old = await app.fetch("/resource", { method: "PUT", headers: { "if-unmodified-since": "Mon, 02 Nov 2026 10:00:00 GMT" }, body: "v3" });
    expect(old.status).toBe(412);
    const unconditional = await app.fetch("/resource", { method: "PUT", body: "version 3" });
    expect(unconditional.status).toBe(200);
  });
  it("checks If-Match against a GET made of several handlers, with the route's own context", async () => {
    const current = (await get("/chained")).headers.get("etag")!;
    expect(await (await get("/chained")).text()).toBe("version 1objectobject");
    const ok = await app.fetch("/chained", { method: "PUT", headers: { "if-match": current } });
    expect(ok.status).toBe(200);
    const stale = await app.fetch("/chained", { method: "PUT", headers: { "if-match": current } });
    expect(stale.status).toBe(412);
    expect((await app.fetch("/chained", { method: "PUT", headers: { "if-unmodified-since": "Tuesday, 03-Nov-26 10:00:00 GMT" } })).status).toBe(200);
  });
});

describe("streamed bodies on a route with cache", () => {
  const KINDS = ["bytes", "bytes-slow", "plain", "plain-slow", "assets", "fetched"];
  let origin: string;
  beforeAll(async () => {
    origin = encodeURIComponent(String(await app.mf.ready).replace(/\/$/, ""));
  });
  // "fetched" passes through this Worker's own answer for /streamed/bytes-slow, fetched over HTTP.
  const path = (kind: string) => `/streamed/${kind}${kind === "fetched" ? `?origin=${origin}` : ""}`;

  it.each(KINDS)("%s: passes through whole and in order, HEAD too", async (kind) => {
    const res = await get(path(kind));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("max-age=60");
    expect((await res.text()) === PAYLOAD).toBe(true);
    const head = await get(path(kind), {}, "HEAD");
    expect([head.status, await head.text()]).toEqual([200, ""]);
  });

  it.each(KINDS)("%s: is checked by If-Match on unsafe methods", async (kind) => {
    const put = (ifMatch: string) => app.fetch(path(kind), { method: "PUT", headers: { "if-match": ifMatch }, body: "x" });
    expect((await put('"old"')).status).toBe(412);
    expect((await put("*")).status).toBe(200);
    const etag = (await get(path(kind))).headers.get("etag");
    if (etag) expect((await put(etag)).status).toBe(200);
  });

  it("gets an ETag and 304s when the stream is in memory, none when it waits on I/O", async () => {
    for (const kind of ["bytes", "plain"]) {
      const etag = (await get(path(kind))).headers.get("etag")!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
      expect((await get(path(kind), { "if-none-match": etag })).status).toBe(304);
      expect((await get(path(kind), { "if-none-match": etag }, "HEAD")).status).toBe(304);
    }
    for (const kind of ["bytes-slow", "plain-slow", "fetched"]) expect((await get(path(kind))).headers.has("etag")).toBe(false);
  });
});

describe("a Cache-Control the handler set itself, without `cache`", () => {
  it("gets an ETag and 304s", async () => {
    const res = await get("/own-policy");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
    expect(await res.text()).toBe("self-declared");
    const again = await get("/own-policy", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("cache-control")).toBe("public, max-age=60");
    expect((await get("/own-policy", { "if-none-match": `"nope", W/${etag}` }, "HEAD")).status).toBe(304);
    expect((await get("/own-policy", {}, "HEAD")).headers.get("etag")).toBe(etag);
  });

  it("leaves responses without Cache-Control, no-store, 206 and session responses alone", async () => {
    for (const path of ["/plain", "/own-nostore", "/partial", "/own-session"]) {
      const res = await get(path, { "if-none-match": "*" });
      expect([path, res.status, res.headers.has("etag")]).toEqual([path, path === "/partial" ? 206 : 200, false]);
    }
    expect((await get("/own-session")).headers.get("cache-control")).toBe("private, no-store");
  });

  it("keeps a passed-through assets response as it is, and answers its validators", async () => {
    const direct = await get("/payload.txt");
    const etag = direct.headers.get("etag")!;
    await direct.text();
    const res = await get("/asset-passthrough");
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(etag);
    expect((await res.text()) === PAYLOAD).toBe(true);
    expect((await get("/asset-passthrough", { "if-none-match": `"other", ${etag}` })).status).toBe(304);
  });
});

describe("the edge cache", () => {
  it("misses, then hits, keeping the query string in the key", async () => {
    const first = await get("/edge?page=1");
    expect(first.headers.get("x-kiln-cache")).toBe("MISS");
    const body = await first.text();
    const second = await get("/edge?page=1");
    expect(second.headers.get("x-kiln-cache")).toBe("HIT");
    expect(await second.text()).toBe(body);
    const other = await get("/edge?page=2");
    expect(other.headers.get("x-kiln-cache")).toBe("MISS");
  });

  it("answers a revalidation of a hit with 304", async () => {
    await get("/edge?page=rv");
    const hit = await get("/edge?page=rv");
    const etag = hit.headers.get("etag")!;
    const res = await get("/edge?page=rv", { "if-none-match": etag });
    expect(res.status).toBe(304);
    expect(res.headers.get("x-kiln-cache")).toBe("HIT");
  });

  it.each(["/edge-cookie", "/edge-private", "/edge-nostore", "/edge-vary", "/edge-session", "/edge-vary-cookie", "/edge-vary-auth"])("never stores %s", async (path) => {
    const a = await (await get(path)).text();
    const b = await get(path);
    expect(b.headers.get("x-kiln-cache")).not.toBe("HIT");
    expect(await b.text()).not.toBe(a);
  });

  it("never serves a cached entry to a request with a session cookie or Authorization", async () => {
    await get("/edge?page=mine");
    expect((await get("/edge?page=mine")).headers.get("x-kiln-cache")).toBe("HIT");
    const personal: Record<string, string>[] = [{ cookie: "kiln_session=abc" }, { authorization: "Bearer t" }];
    for (const headers of personal) {
      const res = await get("/edge?page=mine", headers);
      expect(res.headers.has("x-kiln-cache")).toBe(false);
      expect(await res.text()).toMatch(/^run \d+/);
    }
  });

  it("never serves a response that varies on Cookie to another visitor", async () => {
    expect(await (await get("/edge-vary-cookie", { cookie: "theme=dark" })).text()).toMatch(/^run \d+ for theme=dark$/);
    const other = await get("/edge-vary-cookie", { cookie: "theme=light" });
    expect(other.headers.get("x-kiln-cache")).not.toBe("HIT");
    expect(await other.text()).toMatch(/^run \d+ for theme=light$/);
  });

  it("serves a response that varies on Accept only to requests with the same Accept", async () => {
    const html = { accept: "text/html" };
    const json = { accept: "application/json" };
    const first = await get("/edge-vary-accept", html);
    expect(first.headers.get("x-kiln-cache")).toBe("MISS");
    const body = await first.text();
    const hit = await get("/edge-vary-accept", html);
    expect([hit.headers.get("x-kiln-cache"), await hit.text()]).toEqual(["HIT", body]);
    expect([...hit.headers.keys()].filter((name) => name.startsWith("x-kiln"))).toEqual(["x-kiln-cache"]);
    const other = await get("/edge-vary-accept", json);
    expect(other.headers.get("x-kiln-cache")).toBe("MISS");
    expect(other.headers.get("content-type")).toBe("application/json");
    expect(await other.json()).toEqual({ run: expect.any(Number) });
    expect((await get("/edge-vary-accept", json)).headers.get("x-kiln-cache")).toBe("HIT");
    const back = await get("/edge-vary-accept", html);
    expect(back.headers.get("x-kiln-cache")).toBe("MISS"); // one variant at a time: the last miss replaced it
    expect(await back.text()).toMatch(/^<p>run \d+<\/p>$/);
    expect((await get("/edge-vary-accept", { accept: "" })).headers.get("x-kiln-cache")).toBe("MISS");
  });

  it("leaves Vary: Accept-Encoding to the platform", async () => {
    const first = await (await get("/edge-vary-encoding", { "accept-encoding": "gzip" })).text();
    const hit = await get("/edge-vary-encoding", { "accept-encoding": "identity" });
    expect([hit.headers.get("x-kiln-cache"), await hit.text()]).toEqual(["HIT", first]);
    expect(hit.headers.get("vary")).toBe("Accept-Encoding");
  });

  it("purges a URL", async () => {
    await get("/edge?page=p");
    expect((await get("/edge?page=p")).headers.get("x-kiln-cache")).toBe("HIT");
    expect(await (await app.fetch("/purge?url=/edge%3Fpage%3Dp", { method: "POST" })).text()).toBe("true");
    expect((await get("/edge?page=p")).headers.get("x-kiln-cache")).toBe("MISS");
  });
});
