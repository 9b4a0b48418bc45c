// Security headers and the CSP nonce (security.ts), CORS (cors.ts), typed
// links (url-for.ts) and the log line per request (log.ts), in workerd.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";
import { navigate } from "./helpers/navigate.js";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(resolve(import.meta.dirname, "fixtures/security"), { bindings: { SESSION_SECRET: "security-test-secret-of-32-characters" } });
});
afterAll(() => app?.dispose());

/** workerd's console output reaches the test through a pipe: wait for a line that has `text`. */
async function printed(text: string): Promise<string[]> {
  for (let i = 0; i < 100 && !app.output().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
  return app.output().split("\n").filter((l) => l.includes(text)).map((l) => l.slice(l.indexOf("{")));
}

const csp = (res: Response) => res.headers.get("content-security-policy") ?? "";
const nonceOf = (res: Response) => /'nonce-([^']+)'/.exec(csp(res))?.[1];

describe("security headers", () => {
  it("gives an HTML response nosniff, a referrer policy, a frame policy and a strict CSP", async () => {
    const res = await app.fetch("/plain");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(csp(res)).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(csp(res)).not.toContain("unsafe-inline");
  });

  it("gives JSON nosniff and the referrer policy, without the HTML-only headers", async () => {
    const res = await app.fetch("/data");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.has("content-security-policy")).toBe(false);
    expect(res.headers.has("x-frame-options")).toBe(false);
  });

  it("puts a fresh nonce on the template's trusted script, the same in header and markup", async () => {
    const [a, b] = [await app.fetch("/page"), await app.fetch("/page")];
    const [na, nb] = [nonceOf(a), nonceOf(b)];
    expect(na).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(na).not.toBe(nb);
    const body = await a.text();
    expect(body).toContain(`<script nonce="${na}">window.trusted = 1;</script>`);
    expect(csp(a)).toContain(`script-src 'self' 'nonce-${na}'`);
    // The script the template did not mark has no nonce, so the header does not allow it.
    expect(body).toContain("<script>window.injected = 1;</script>");
    expect(csp(a)).not.toMatch(/unsafe-inline|unsafe-hashes|sha256-/);
    await b.text();
  });

  it("gives the html tag the nonce through context.cspNonce", async () => {
    const res = await app.fetch("/inline");
    const nonce = nonceOf(res);
    expect(await res.text()).toContain(`<style nonce="${nonce}">`);
    expect(csp(res)).toContain(`style-src 'self' 'nonce-${nonce}'`);
  });

  it("names no nonce when the page asked for none", async () => {
    expect(nonceOf(await app.fetch("/plain"))).toBeUndefined();
  });

  it("takes a file's headers and csp declarations over the defaults", async () => {
    const res = await app.fetch("/framed");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("permissions-policy")).toBe("camera=()");
    expect(csp(res)).toContain("frame-ancestors 'self'");
    expect(csp(res)).toContain("img-src 'self' https://img.example");
    expect(csp(res)).toContain("script-src 'self'");
  });

  it("leaves the CSP of a page no route answers (a single-page app's shell) to public/_headers", async () => {
    const page = await navigate(app, "/some/client/route");
    expect(page.body).toContain("window.app");
    expect(page.headers["content-security-policy"]).toBeUndefined();
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["x-frame-options"]).toBe("DENY");
  });

  it("sends no CSP for csp = false, and keeps a route's own", async () => {
    const legacy = await app.fetch("/legacy");
    expect(legacy.headers.has("content-security-policy")).toBe(false);
    expect(legacy.headers.get("x-content-type-options")).toBe("nosniff");
    expect(csp(await app.fetch("/own-csp"))).toBe("default-src 'none'");
  });
});

const ORIGIN = { origin: "https://app.example" };
const preflight = (path: string, headers: Record<string, string>) => app.fetch(path, { method: "OPTIONS", headers });

describe("CORS", () => {
  it("answers a preflight from an allowed origin, credentials and all", async () => {
    const res = await preflight("/api/items", { ...ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-token" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST, HEAD, OPTIONS");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, x-token");
    expect(res.headers.get("access-control-max-age")).toBe("300");
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it.each([
    ["another origin", { origin: "https://evil.example", "access-control-request-method": "GET" }],
    ["an origin that only starts like an allowed one", { origin: "https://app.example.evil.test", "access-control-request-method": "GET" }],
    ["Origin: null", { origin: "null", "access-control-request-method": "GET" }],
    ["a method the route has not", { ...ORIGIN, "access-control-request-method": "DELETE" }],
    ["a header not allowed", { ...ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization" }],
  ])("refuses a preflight with %s", async (_, headers) => {
    const res = await preflight("/api/items", headers);
    expect(res.status).toBe(403);
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("answers the preflight of a guarded route before the guard, which still guards the real request", async () => {
    const res = await preflight("/api/private", { ...ORIGIN, "access-control-request-method": "GET" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const real = await app.fetch("/api/private", { headers: { ...ORIGIN, accept: "application/json" } });
    expect(real.status).toBe(401);
    expect(real.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  it("names the allowed origin, never *, on the real request with credentials, and adds Vary: Origin", async () => {
    const res = await app.fetch("/api/items", { headers: ORIGIN });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-expose-headers")).toBe("X-Total");
    expect(res.headers.get("vary")).toBe("Accept, Origin");
  });

  it("never reflects an origin it was not given, and still varies on Origin", async () => {
    const res = await app.fetch("/api/items", { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    expect(res.headers.has("access-control-allow-credentials")).toBe(false);
    expect(res.headers.get("vary")).toBe("Accept, Origin");
  });

  it("takes back a handler's own reflection of an origin the declaration does not name", async () => {
    const res = await app.fetch("/api/echo", { headers: { origin: "https://evil.example" } });
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    expect(res.headers.has("access-control-allow-credentials")).toBe(false);
  });

  it("lets an allowed origin's credentialed request through the cross-site check, and no other", async () => {
    const cookie = { cookie: "kiln_session=x", "content-type": "application/json", "sec-fetch-site": "cross-site" };
    expect((await app.fetch("/api/items", { method: "POST", headers: { ...cookie, ...ORIGIN }, body: "{}" })).status).toBe(201);
    expect((await app.fetch("/api/items", { method: "POST", headers: { ...cookie, origin: "https://evil.example" }, body: "{}" })).status).toBe(403);
  });

  it("answers any origin with * where credentials are off", async () => {
    const res = await app.fetch("/open-api/time", { headers: { origin: "https://anyone.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.has("access-control-allow-credentials")).toBe(false);
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("leaves a route that declares no cors, and a plain OPTIONS, as they were", async () => {
    const res = await app.fetch("/data", { headers: ORIGIN });
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    expect(res.headers.has("vary")).toBe(false);
    const options = await app.fetch("/api/items", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, POST, HEAD, OPTIONS");
  });
});

describe("typed links", () => {
  it("builds paths from route files, percent-encoding params", async () => {
    expect(await (await app.fetch("/links")).json()).toEqual([
      "/users/42",
      "/users/a%20b%2F%C3%BC%3F%23",
      "/files/docs/a%20b/c%2Fd",
      "/files",
      "/links?q=x%26y&tag=a&tag=b",
      "/users/7",
    ]);
  });

  it("gives templates url_for, whose links the router takes back", async () => {
    const body = await (await app.fetch("/page")).text();
    expect(body).toContain('<a id="user" href="/users/a%20b%2Fc">');
    expect(body).toContain('<a id="files" href="/files/x%20y/z?page=2">');
    expect(await (await app.fetch("/users/a%20b%2Fc")).text()).toBe("user a b/c");
    expect(await (await app.fetch("/files/x%20y/z?page=2")).json()).toEqual(["x y", "z"]);
  });
});

describe("the log line", () => {
  it("prints one JSON line per request, with the request id it sends back", async () => {
    const res = await app.fetch("/users/9", { headers: { "cf-ray": "8f00aa-LHR" } });
    expect(res.headers.get("x-request-id")).toBe("8f00aa-LHR");
    await res.text();
    const [line] = await printed('"requestId":"8f00aa-LHR"');
    expect(JSON.parse(line)).toEqual({ method: "GET", path: "/users/9", status: 200, ms: expect.any(Number), requestId: "8f00aa-LHR", route: "/users/:id" });
  });

  it("makes a request id where there is no cf-ray, and logs an error with it", async () => {
    const res = await app.fetch("/boom");
    expect(res.status).toBe(500);
    const id = res.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await printed(`"status":500`);
    const lines = (await printed(`"requestId":"${id}"`)).map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ level: "error", requestId: id, error: expect.stringContaining("the kiln cracked") }));
    expect(lines).toContainEqual(expect.objectContaining({ method: "GET", path: "/boom", status: 500, route: "/boom" }));
  });
});

describe("settings: DEBUG and KILN_LOG", () => {
  let debug: TestApp;
  beforeAll(async () => {
    debug = await startApp(resolve(import.meta.dirname, "fixtures/security"), { bindings: { DEBUG: "true", KILN_LOG: "off", SESSION_SECRET: "security-test-secret-of-32-characters" } });
  });
  afterAll(() => debug?.dispose());

  it("sends Server-Timing with the render and the total when debugging is on, and never otherwise", async () => {
    const timing = (await debug.fetch("/page")).headers.get("server-timing");
    expect(timing).toMatch(/^render;dur=\d+, total;dur=\d+$/);
    expect((await debug.fetch("/data")).headers.get("server-timing")).toMatch(/^total;dur=\d+$/);
    expect((await app.fetch("/page")).headers.has("server-timing")).toBe(false);
  });

  it("logs nothing and sends no request id with KILN_LOG = off", async () => {
    const res = await debug.fetch("/users/5", { headers: { "cf-ray": "quiet-ray" } });
    expect(res.headers.has("x-request-id")).toBe(false);
    await res.text();
    await new Promise((r) => setTimeout(r, 200));
    expect(debug.output()).not.toContain("quiet-ray");
    expect(debug.output()).not.toContain('"path":"/users/5"');
  });
});
