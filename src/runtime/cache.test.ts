// A route's `export const cache`, turned into its Cache-Control header. The
// build cannot run the file, so a mistake in it surfaces when the Worker
// loads, and the error must say which file to fix.
import { describe, expect, it } from "vitest";
import { cacheControl, cacheRoute, type CacheExport } from "./cache.js";

describe("cacheControl: every option", () => {
  it.each<[CacheExport, string]>([
    [{ maxAge: 60 }, "max-age=60"],
    [{ maxAge: 0 }, "max-age=0"],
    [{ sMaxAge: 600 }, "s-maxage=600"],
    [{ staleWhileRevalidate: 30 }, "stale-while-revalidate=30"],
    [{ staleIfError: 86400 }, "stale-if-error=86400"],
    [{ public: true }, "public"],
    [{ private: true }, "private"],
    [{ noStore: true }, "no-store"],
    [{ noCache: true }, "no-cache"],
    [{ mustRevalidate: true }, "must-revalidate"],
    [{ proxyRevalidate: true }, "proxy-revalidate"],
    [{ immutable: true }, "immutable"],
    [{ maxAge: 60, edge: true }, "max-age=60"],
    [{ maxAge: 60, public: false, immutable: false }, "max-age=60"],
    [
      { sMaxAge: 2, maxAge: 1, immutable: true, public: true, staleIfError: 4, noCache: true, staleWhileRevalidate: 3, mustRevalidate: true, proxyRevalidate: true },
      "public, no-cache, must-revalidate, proxy-revalidate, immutable, max-age=1, s-maxage=2, stale-while-revalidate=3, stale-if-error=4",
    ],
    ["  public, max-age=5  ", "public, max-age=5"],
    ["private, max-age=0, x-custom", "private, max-age=0, x-custom"],
  ])("%j → %s", (policy, header) => {
    expect(cacheControl(policy, "page.ts")).toBe(header);
  });
});

describe("cacheControl: mistakes are errors that name the file", () => {
  it.each<[string, unknown, string]>([
    ["an empty string", "  ", "functions/blog/[slug].ts: cache is not a valid Cache-Control value"],
    ["a header split over lines", "max-age=60\r\nset-cookie: a=1", "functions/blog/[slug].ts: cache is not a valid Cache-Control value"],
    ["null", null, "functions/blog/[slug].ts: cache must be a Cache-Control string or an object"],
    ["a number", 60, "functions/blog/[slug].ts: cache must be a Cache-Control string or an object"],
    ["a misspelt option", { maxage: 60 }, 'functions/blog/[slug].ts: unknown cache option "maxage"'],
    ["public and private", { public: true, private: true, maxAge: 1 }, "functions/blog/[slug].ts: cache cannot be both public and private"],
    ["negative seconds", { maxAge: -1 }, "functions/blog/[slug].ts: cache.maxAge must be a whole number of seconds"],
    ["fractional seconds", { sMaxAge: 1.5 }, "functions/blog/[slug].ts: cache.sMaxAge must be a whole number of seconds"],
    ["seconds as a string", { staleIfError: "60" }, "functions/blog/[slug].ts: cache.staleIfError must be a whole number of seconds"],
    ["infinite seconds", { staleWhileRevalidate: Infinity }, "functions/blog/[slug].ts: cache.staleWhileRevalidate must be a whole number of seconds"],
    ["nothing to say", {}, "functions/blog/[slug].ts: cache says nothing (give maxAge, noStore, ...)"],
    ["only edge", { edge: true }, "functions/blog/[slug].ts: cache says nothing (give maxAge, noStore, ...)"],
    ["only false flags", { public: false }, "functions/blog/[slug].ts: cache says nothing (give maxAge, noStore, ...)"],
  ])("%s", (_, policy, message) => {
    expect(() => cacheControl(policy as CacheExport, "blog/[slug].ts")).toThrow(new TypeError(message));
  });

  it("surfaces when the route table is made, not on a request", () => {
    expect(() => cacheRoute({ maxAge: -5 }, "feed.ts")).toThrow(new TypeError("functions/feed.ts: cache.maxAge must be a whole number of seconds"));
  });
});
