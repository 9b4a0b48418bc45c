// Throwaway apps for build tests: a folder of files, and the problems a
// build of it reports.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build, BuildError } from "../../src/compiler/index.js";

/** A throwaway app: { "functions/a.ts": "source" } written under a new temporary folder. */
export function makeApp(files: Record<string, string>, prefix = "kiln-app-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), source);
  }
  return root;
}

/** The BuildError problems of building these files; fails when the build passes. */
export async function problemsOf(files: Record<string, string>): Promise<string[]> {
  try {
    await build({ root: makeApp(files) });
  } catch (err) {
    if (err instanceof BuildError) return err.problems;
    throw err;
  }
  throw new Error("the build passed");
}
