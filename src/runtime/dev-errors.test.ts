// The 500 that Miniflare (wrangler dev) turns into its error page: its header
// and the error as JSON, in the shape Miniflare's reviveError reads.
import { describe, expect, it } from "vitest";
import { devErrorResponse, ERROR_STACK_HEADER } from "./dev-errors.js";

describe("devErrorResponse", () => {
  it("is a 500 with Miniflare's header and the error's name, message, stack and cause", async () => {
    const err = new TypeError("outer", { cause: new RangeError("inner") });
    const res = devErrorResponse(err);
    expect([res.status, res.headers.get(ERROR_STACK_HEADER), res.headers.get("cache-control")]).toEqual([500, "true", "no-store"]);
    expect(await res.json()).toEqual({
      name: "TypeError",
      message: "outer",
      stack: err.stack,
      cause: { name: "RangeError", message: "inner", stack: (err.cause as Error).stack },
    });
  });

  it("gives a thrown value that is not an Error a name, a message and a stack", async () => {
    expect(await devErrorResponse("plain string").json()).toEqual({ name: "Error", message: "plain string", stack: "Error: plain string" });
  });

  it("stops at a cause that leads back to itself", async () => {
    const err = new Error("loop");
    err.cause = err;
    let depth = 0;
    for (let json = (await devErrorResponse(err).json()) as { cause?: unknown }; json.cause; json = json.cause as { cause?: unknown }) depth++;
    expect(depth).toBe(8);
  });
});
