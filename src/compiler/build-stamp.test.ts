// The stamp that lets kiln build under wrangler dev skip the second,
// identical build that wrangler 4.86 runs at start-up: it holds while nothing
// the build reads or wrote has changed, and any change breaks it.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "./index.js";
import { BuildStamp, STAMP_FILE, type StampOptions } from "./build-stamp.js";

const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function makeApp(): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-stamp-"));
  roots.push(root);
  write(root, {
    "functions/index.ts": 'export const onRequestGet = () => new Response("home");\n',
    "templates/page.html": "<p>{{ name }}</p>\n",
    "public/robots.txt": "User-agent: *\n",
    "wrangler.toml": 'name = "app"\nmain = ".kiln/worker.ts"\n[assets]\ndirectory = "public"\nbinding = "ASSETS"\n',
  });
  return root;
}

function write(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

/** A build as the CLI runs it under wrangler dev: the stamp taken before, recorded after. */
async function stampedBuild(options: StampOptions): Promise<void> {
  const stamp = new BuildStamp(options);
  await build({ root: options.root, out: options.out, assets: options.assets, dev: options.dev });
  stamp.record();
}

/** Whether a build now would be skipped. */
const unchanged = (options: StampOptions) => new BuildStamp(options).unchanged();

describe("BuildStamp", () => {
  it("holds only for the repeat that follows a build within seconds: a new wrangler dev later builds and says so", async () => {
    const root = makeApp();
    const options = { root, args: ["build"], dev: true };
    await stampedBuild(options);
    expect(new BuildStamp(options).unchanged(Date.now() + 20_000)).toBe(true);
    expect(new BuildStamp(options).unchanged(Date.now() + 40_000)).toBe(false);
  });

  it("holds after a build until a file of functions/, templates/ or public/ is edited, added or deleted", async () => {
    const root = makeApp();
    const options = { root, args: ["build"], dev: true };
    expect(unchanged(options)).toBe(false); // never built
    await stampedBuild(options);
    expect(existsSync(join(root, ".kiln", STAMP_FILE))).toBe(true);
    expect(unchanged(options)).toBe(true);
    expect(unchanged(options)).toBe(true); // checking changes nothing

    const changes: [string, () => void][] = [
      ["a route edited, same size, later mtime", () => touch(join(root, "functions/index.ts"), 'export const onRequestGet = () => new Response("HOME");\n', +5)],
      ["a route edited, another size", () => write(root, { "functions/index.ts": 'export const onRequestGet = () => new Response("home!");\n' })],
      ["a route added", () => write(root, { "functions/about.ts": 'export const onRequestGet = () => new Response("about");\n' })],
      ["a route deleted", () => rmSync(join(root, "functions/about.ts"))],
      ["a template edited", () => write(root, { "templates/page.html": "<p>hi {{ name }}</p>\n" })],
      ["a static file added", () => write(root, { "public/a.txt": "a\n" })],
      ["wrangler.toml edited", () => write(root, { "wrangler.toml": 'name = "app2"\nmain = ".kiln/worker.ts"\n[assets]\ndirectory = "public"\nbinding = "ASSETS"\n' })],
      ["a wrangler.jsonc added beside it", () => write(root, { "wrangler.jsonc": '{ "name": "app", "main": ".kiln/worker.ts" }\n' })],
    ];
    for (const [change, make] of changes) {
      make();
      expect([change, unchanged(options)]).toEqual([change, false]);
      await stampedBuild(options);
      expect([change, unchanged(options)]).toEqual([change, true]);
    }
  });

  it("does not hold for other arguments, outside wrangler dev, or when an output is gone or rewritten", async () => {
    const root = makeApp();
    const options = { root, args: ["build"], dev: true };
    await stampedBuild(options);
    expect(unchanged({ ...options, args: ["build", "--listings"] })).toBe(false);
    expect(unchanged({ ...options, dev: false })).toBe(false);
    expect(unchanged(options)).toBe(true);
    for (const output of ["worker.ts", "routes.d.ts", "templates.ts"]) {
      rmSync(join(root, ".kiln", output));
      expect([output, unchanged(options)]).toEqual([output, false]);
      await stampedBuild(options);
      expect([output, unchanged(options)]).toEqual([output, true]);
    }
    // The entry that a failed build writes under wrangler dev (error-entry.ts) replaces the app's.
    write(root, { ".kiln/worker.ts": "export default { fetch: () => new Response('build failed') };\n" });
    expect(unchanged(options)).toBe(false);
  });

  it("records nothing when an input changes while the build runs, and forget() drops the stamp", async () => {
    const root = makeApp();
    const options = { root, args: ["build"], dev: true };
    const stamp = new BuildStamp(options);
    await build({ root, dev: true });
    write(root, { "functions/late.ts": 'export const onRequestGet = () => new Response("late");\n' });
    stamp.record();
    expect(existsSync(stamp.file)).toBe(false);
    expect(unchanged(options)).toBe(false);
    await stampedBuild(options);
    expect(unchanged(options)).toBe(true);
    new BuildStamp(options).forget();
    expect(existsSync(stamp.file)).toBe(false);
    expect(unchanged(options)).toBe(false);
  });

  it("sits beside the entry that --out names", async () => {
    const root = makeApp();
    const options = { root, out: join(root, "build/entry.ts"), args: ["build", "--out", "build/entry.ts"], dev: true };
    await stampedBuild(options);
    expect(existsSync(join(root, "build", STAMP_FILE))).toBe(true);
    expect(unchanged(options)).toBe(true);
    expect(unchanged({ ...options, out: undefined })).toBe(false);
  });
});

/** Rewrites FILE, its mtime set SECONDS after the old one. */
function touch(file: string, text: string, seconds: number): void {
  const { atime, mtime } = statSync(file);
  writeFileSync(file, text);
  utimesSync(file, atime, new Date(mtime.getTime() + seconds * 1000));
}
