// `npm start` and `npm test` run this first, so a fresh clone needs no other
// step: it installs the dependencies when they are missing or older than the
// lock file (npm ci also builds dist/ through `prepare`), writes a .dev.vars
// with a random SESSION_SECRET for `npm start`, and for `npm test` installs
// Debian's Chromium for the browser test where it can.
//
//   node scripts/setup.js start | test
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const purpose = process.argv[2];
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

// npm writes node_modules/.package-lock.json at the end of every install.
const installed = join(ROOT, "node_modules/.package-lock.json");
if (mtime(installed) < mtime(join(ROOT, "package-lock.json"))) {
  console.log("kiln: installing dependencies (npm ci)");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: "inherit" });
} else if (!existsSync(join(ROOT, "dist/compiler/cli.js"))) {
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
}

if (purpose === "start" && !existsSync(join(ROOT, ".dev.vars"))) {
  writeFileSync(join(ROOT, ".dev.vars"), `SESSION_SECRET="${randomBytes(32).toString("base64url")}"\n`);
  console.log("kiln: wrote .dev.vars with a random SESSION_SECRET");
}

if (purpose === "test") {
  // The browser test needs Chromium. Where it cannot be installed, that test
  // says what to do and the rest runs; CI (CI=true) requires it.
  const run = spawnSync("bash", [join(ROOT, "scripts/install-chromium.sh")], { stdio: "inherit" });
  if (run.status !== 0 && process.env.CI === "true") process.exit(run.status ?? 1);
}
