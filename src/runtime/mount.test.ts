// mount() outside workerd: the path the router sees, and contextOf's guard.
// test/worker.test.ts runs it inside workerd with the real itty-router and Hono.
import { describe, expect, it } from "vitest";
import { contextOf, mount } from "./mount.js";
import type { EventContext } from "./types.js";

/** What mount reads of kiln's context. */
function contextFor(url: string, functionPath: string): EventContext {
  return { request: new Request(url), env: {}, functionPath, params: {}, next: async () => new Response("next") } as unknown as EventContext;
}

async function seenPath(url: string, functionPath: string): Promise<string> {
  const handler = mount({ fetch: (request: Request) => new Response(new URL(request.url).pathname + new URL(request.url).search) });
  return (await handler(contextFor(url, functionPath))).text();
}

describe("mount", () => {
  it("gives the router the path below the route file's own segments, params included", async () => {
    expect(await seenPath("http://x/api/users/7?q=1", "/api/:path*")).toBe("/users/7?q=1");
    expect(await seenPath("http://x/api", "/api/:path*")).toBe("/");
    expect(await seenPath("http://x/api/", "/api/:path*")).toBe("/");
    expect(await seenPath("http://x/teams/red/a%2Fb", "/teams/:team/:path*")).toBe("/a%2Fb");
    // In a _middleware.ts, below its folder.
    expect(await seenPath("http://x/admin/users/", "/admin")).toBe("/users/");
    expect(await seenPath("http://x/anything", "/")).toBe("/anything");
  });

  it("calls next() when the router answers nothing", async () => {
    const handler = mount({ fetch: () => undefined });
    expect(await (await handler(contextFor("http://x/api/none", "/api/:path*"))).text()).toBe("next");
  });
});

describe("contextOf", () => {
  it("refuses a Hono context that kiln's mount did not make", () => {
    expect(() => contextOf({ executionCtx: { waitUntil() {}, passThroughOnException() {} } })).toThrow("contextOf(c): this Hono app does not run under kiln's mount()");
  });
});
