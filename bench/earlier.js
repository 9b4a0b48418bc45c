// kiln as it was at an earlier commit, for the benchmarks that measure it
// beside today's in one run (compare.js, and caching.js and templates.js with
// --against REV): a git worktree of its own under bench/.out, built with this
// checkout's node_modules, removed when the process exits.
import { execFileSync } from "node:child_process";
import { rmSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");

/** The folder of kiln at `rev`, its dist/ built; `name` keeps the worktrees of different benchmarks apart. */
export function earlierKiln(rev, name) {
  const dir = join(REPO, "bench/.out", `${name}-worktree`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync("git", ["worktree", "prune"], { cwd: REPO });
  execFileSync("git", ["worktree", "add", "--force", "--detach", dir, rev], { cwd: REPO, stdio: "pipe" });
  process.on("exit", () => execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: REPO }));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: dir });
  return dir;
}
