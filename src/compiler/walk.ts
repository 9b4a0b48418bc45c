// The one directory walk of the build: functions/, templates/ and public/
// are each read with it.
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `dir`, relative to it with forward slashes, sorted; undefined when `dir` is not a folder. */
export function walkFiles(dir: string): string[] | undefined {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return undefined; // missing, or not a folder
  }
  // Dirents tell files from folders without a stat per file; only a symlink needs one.
  const isFile = (e: Dirent) => e.isFile() || (e.isSymbolicLink() && statSync(join(e.parentPath, e.name), { throwIfNoEntry: false })?.isFile());
  return entries
    .filter(isFile)
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}
