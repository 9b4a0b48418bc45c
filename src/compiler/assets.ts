// What the build tells the runtime about public/: which URL paths a file can
// answer (so an unmatched path gets its 404 without a subrequest to
// env.ASSETS), whether there is a 404 page, and the folder listings when they
// are on. There is no file system at run time, so this is the only moment to look.
import { assetKey, type StaticFilesInput } from "../runtime/static-files.js";
import { BuildError } from "./scan.js";
import { walkFiles } from "./walk.js";

/** Above this many files the list would cost more start-up time than it saves; the runtime then always asks. */
export const MAX_LISTED_ASSETS = 2000;

/**
 * `keys` is left out when the runtime must always ask the assets: too many
 * files, or a `_redirects` file, whose rules can answer any path.
 */
export function scanPublic(dir: string, options: { listings?: boolean; spa?: boolean } = {}): StaticFilesInput {
  const files = walkFiles(dir);
  if (!files) return {};
  const result: StaticFilesInput = { pages: [400, 403, 404, 413, 415, 422, 500].filter((status) => files.includes(`${status}.html`)) };
  // As Pages decides: an index.html and no 404.html is a single-page app, unless the app says otherwise.
  const spa = options.spa ?? (files.includes("index.html") && !files.includes("404.html"));
  if (spa) {
    if (!files.includes("index.html")) throw new BuildError([`${dir}: --spa needs an index.html in it`]);
    result.spa = true;
  }
  if (!files.includes("_redirects") && files.length <= MAX_LISTED_ASSETS) {
    result.keys = [...new Set(files.map((f) => assetKey(`/${f}`)))].sort();
  }
  if (options.listings) result.listings = folderListings(files);
  return result;
}

/** Every folder (the root too) that has no index.html, with its files and subfolders. */
function folderListings(files: string[]): Record<string, string[]> {
  const folders = new Map<string, Set<string>>([["", new Set()]]);
  for (const file of files) {
    const parts = file.split("/");
    for (let i = 0; i < parts.length; i++) {
      const folder = parts.slice(0, i).join("/");
      if (!folders.has(folder)) folders.set(folder, new Set());
      folders.get(folder)!.add(i === parts.length - 1 ? parts[i] : `${parts[i]}/`);
    }
  }
  const listings: Record<string, string[]> = {};
  for (const [folder, entries] of folders) {
    if (entries.has("index.html")) continue;
    listings[folder === "" ? "/" : `/${folder}`] = [...entries].filter((e) => !e.startsWith("_")).sort();
  }
  return listings;
}

/** The line kiln build prints about what a path that nothing serves gets. */
export function notFoundMode(files: StaticFilesInput): string | undefined {
  if (files.spa) return "not found: browsers get public/index.html with 200 (a single-page app: there is no public/404.html; --no-spa turns it off)";
  if (files.pages?.includes(404)) return "not found: public/404.html with 404";
  return undefined;
}
