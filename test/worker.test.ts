// The whole Worker (docs/worker.md): functions/_worker.ts's scheduled and queue
// handlers, Durable Object and WorkerEntrypoint classes beside the routes, and
// itty-router and Hono apps mounted in route files, served from workerd with
// real queues, Durable Objects and service bindings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

const FIXTURE = resolve(import.meta.dirname, "fixtures/worker");

let app: TestApp;
beforeAll(async () => {
  // Bound as the fixture's wrangler.toml says: RECORDS, COUNTER, the fixture-jobs queue, GREETER.
  app = await startApp(FIXTURE, { bindings: { SESSION_SECRET: "worker-fixture-secret-of-32-characters" } });
});
afterAll(() => app?.dispose());

async function text(path: string, init?: RequestInit): Promise<string> {
  return (await app.fetch(path, init)).text();
}

/** Polls until `check` holds: a queue delivers in its own time. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("functions/_worker.ts beside the routes", () => {
  it("runs the scheduled handler with the app's env, and renders a template for it", async () => {
    const worker = await app.mf.getWorker();
    const result = await worker.scheduled({ cron: "0 3 * * *" });
    expect(result.outcome).toBe("ok");
    expect(await text("/records/cron")).toBe("<p>cron 0 3 * * *: fired &amp; done</p>\n");
  });

  it("delivers a message that a route sends to the queue consumer", async () => {
    const res = await app.fetch("/jobs?n=7", { method: "POST" });
    expect(res.status).toBe(202);
    await res.text();
    await eventually(async () => (await app.fetch("/records/job:7")).status === 200);
    expect(await text("/records/job:7")).toBe("done 7 from fixture-jobs");
  });

  it("keeps a Durable Object's state across requests", async () => {
    expect(await text("/counter", { method: "POST" })).toBe("count 1");
    expect(await text("/counter", { method: "POST" })).toBe("count 2");
    expect(await text("/counter", { method: "POST" })).toBe("count 3");
  });

  it("answers an RPC call into a WorkerEntrypoint over a service binding", async () => {
    expect(await text("/greet/ada")).toBe("Hello, ada, over RPC");
  });

  it("never serves _worker.ts as a route", async () => {
    expect((await app.fetch("/_worker")).status).toBe(404);
  });
});

/** A visitor with a session cookie. */
async function twice(path: string): Promise<string[]> {
  const first = await app.fetch(path, { method: "POST" });
  const cookie = first.headers.get("set-cookie")!.split(";")[0];
  const second = await app.fetch(path, { method: "POST", headers: { cookie } });
  return [await first.text(), await second.text()];
}

describe("mount(): an itty-router router in functions/itty/[[path]].ts", () => {
  it("gets the path below the route file, and kiln's params", async () => {
    expect(await text("/itty/hello/ada")).toBe("itty says hello to ada (path hello/ada)");
    expect(await text("/itty/url?q=1")).toBe("http://localhost/url?q=1");
  });

  it("reaches kiln's session and render through its handlers' third argument", async () => {
    expect(await twice("/itty/visits")).toEqual(["visit 1", "visit 2"]);
    const page = await app.fetch("/itty/page");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toBe("<h1>Hello, itty!</h1>\n");
  });

  it("answers a thrown StatusError with its status and message, as JSON for JSON clients", async () => {
    const res = await app.fetch("/itty/teapot");
    expect(res.status).toBe(418);
    expect(await res.text()).toBe("short and stout\n");
    const json = await app.fetch("/itty/teapot", { headers: { accept: "application/json" } });
    expect(await json.json()).toEqual({ error: "short and stout", status: 418 });
  });

  it("answers a 5xx StatusError with its status, logged, and any other error with kiln's 500 that shows nothing", async () => {
    const broken = await app.fetch("/itty/broken");
    expect(broken.status).toBe(503);
    expect(await broken.text()).toBe("Service Unavailable\n");
    expect(app.output()).toContain("the kiln is cold");
    expect((await app.fetch("/itty/odd")).status).toBe(500);
    const crash = await app.fetch("/itty/crash");
    expect(crash.status).toBe(500);
    expect(await crash.text()).not.toContain("secret");
    expect(app.output()).toContain("a secret message");
  });

  it("passes what the router does not answer on to kiln's chain: the 404", async () => {
    const res = await app.fetch("/itty/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("Not Found\n");
  });
});

describe("mount(): a Hono app in functions/teams/[team]/[[path]].ts", () => {
  it("gets the path below the route file, and kiln's params through contextOf(c)", async () => {
    expect(await text("/teams/red/members/ada")).toBe("hono: ada of team red");
  });

  it("reaches kiln's session and render", async () => {
    expect(await twice("/teams/red/visits")).toEqual(["visit 1", "visit 2"]);
    expect(await text("/teams/red/page")).toBe("<h1>Hello, hono!</h1>\n");
  });

  it("answers a thrown HTTPException with its status, and any other error with kiln's 500", async () => {
    const res = await app.fetch("/teams/red/private", { headers: { accept: "application/json" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "members only", status: 403 });
    const crash = await app.fetch("/teams/red/crash");
    expect(crash.status).toBe(500);
    expect(await crash.text()).not.toContain("secret");
  });

  it("passes what the app does not answer on to kiln's chain through contextOf(c).next()", async () => {
    const res = await app.fetch("/teams/red/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("Not Found\n");
  });
});
