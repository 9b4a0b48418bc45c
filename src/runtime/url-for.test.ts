// urlFor outside workerd: every kind of param, and what it refuses.
// test/security.test.ts follows its links through the real router.
import { describe, expect, it } from "vitest";
import { urlFor } from "./url-for.js";

describe("urlFor", () => {
  it.each([
    [urlFor("index.ts"), "/"],
    [urlFor("about/index.ts"), "/about"],
    [urlFor("users/[id].ts", { id: "42" }), "/users/42"],
    [urlFor("users/[id].mjs", { id: "a/b?c#d %" }), "/users/a%2Fb%3Fc%23d%20%25"],
    [urlFor("orgs/[org]/repos/[repo].ts", { org: "ü", repo: ".." }), "/orgs/%C3%BC/repos/.."],
    [urlFor("files/[[path]].ts", { path: ["a b", "c/d", "é"] }), "/files/a%20b/c%2Fd/%C3%A9"],
    [urlFor("files/[[path]].ts", { path: [] }), "/files"],
    [urlFor("[[all]].ts", { all: [] }), "/"],
    [urlFor("/users/:id", { id: "7" }), "/users/7"],
    [urlFor("/files/:path*", { path: ["x"] }), "/files/x"],
    [urlFor("search.ts", {}, { q: "a&b=c", tag: ["x", "y"], empty: undefined }), "/search?q=a%26b%3Dc&tag=x&tag=y"],
  ])("%s is %s", (got, expected) => {
    expect(got).toBe(expected);
  });

  it("puts keys that are no param in the query string, as templates' named args arrive", () => {
    const call = urlFor as (file: string, params: Record<string, unknown>) => string;
    expect(call("users/[id].ts", { id: 1, page: 2 })).toBe("/users/1?page=2");
  });

  it.each([
    ["a missing param", { file: "users/[id].ts", params: {} }, "no value for [id]"],
    ["an empty param, which no route would match", { file: "users/[id].ts", params: { id: "" } }, "no value for [id]"],
    ["a catch-all given a string", { file: "files/[[path]].ts", params: { path: "a/b" } }, "[[path]] takes an array"],
    ["an empty catch-all segment", { file: "files/[[path]].ts", params: { path: ["a", ""] } }, "no value for [path]"],
  ])("refuses %s", (_, { file, params }, message) => {
    const call = urlFor as (file: string, params: Record<string, unknown>) => string;
    expect(() => call(file, params)).toThrow(message);
  });
});
