// `npm start` runs this first: a fresh clone gets a .dev.vars with a random
// SESSION_SECRET, so the demo's sessions work without a manual step.
import { existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

if (!existsSync(".dev.vars")) {
  writeFileSync(".dev.vars", `SESSION_SECRET="${randomBytes(32).toString("base64url")}"\n`);
  console.log("kiln demo: wrote .dev.vars with a random SESSION_SECRET");
}
