// CORS declarations checked at start-up, outside workerd; test/security.test.ts runs the preflights.
import { describe, expect, it } from "vitest";
import { cors } from "./cors.js";
import { securityHeaders } from "./security.js";

const start = (declares: Record<string, unknown>) => () => {
  const entries = [{ pattern: "/api", middleware: true, methods: {}, declares }];
  cors().validate(entries);
  securityHeaders().validate(entries);
};

describe("declarations checked at start-up", () => {
  it.each([
    [{ cors: { origin: "*", credentials: true } }, "middleware /api: cors origin \"*\" cannot go with credentials"],
    [{ cors: { origin: "https://app.example" } }, "cors origin must be an array"],
    [{ cors: ["https://app.example"] }, "cors origin must be an array"],
    [{ cors: { origin: [], maxAge: -1 } }, "maxAge must be a whole number"],
    [{ cors: { origin: [], credentials: "yes" } }, "credentials must be true or false"],
    [{ headers: { "x-frame-options": 1 } }, "headers must be an object"],
    [{ csp: { "script-src": 1 } }, "csp must be false or an object"],
    [{ csp: true }, "csp must be false or an object"],
  ])("%j stops the Worker", (declares, message) => {
    expect(start(declares)).toThrow(message);
  });

  it.each([[{ cors: { origin: ["https://app.example"], credentials: true, methods: ["GET"], maxAge: 0 } }], [{ cors: { origin: "*" } }], [{ csp: false, headers: { "x-frame-options": false } }]])(
    "%j starts",
    (declares) => {
      expect(start(declares)).not.toThrow();
    },
  );
});
