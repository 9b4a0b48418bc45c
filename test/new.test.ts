// `kiln new` from this repository (without installing: test/package.test.ts
// installs one from the packed tarball and runs its npm test and npm run dev).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "smol-toml";

const REPO = resolve(import.meta.dirname, "..");
const CLI = join(REPO, "dist/compiler/cli.js");

function kilnNew(dir: string) {
  return spawnSync("node", [CLI, "new", dir, "--no-install"], { cwd: join(dir, ".."), encoding: "utf8" });
}

describe("kiln new", () => {
  it("writes a complete app, named after its folder, with its own secret", () => {
    const app = join(mkdtempSync(join(tmpdir(), "kiln-new-")), "My Shop!");
    const run = kilnNew(app);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("npm run dev");
    const read = (file: string) => readFileSync(join(app, file), "utf8");
    for (const file of ["functions/index.ts", "templates/layout.html", "public/404.html", "test/app.test.ts", "tsconfig.json"]) {
      expect(read(file).length, file).toBeGreaterThan(0);
    }
    const toml = parse(read("wrangler.toml")) as Record<string, any>;
    expect(toml).toMatchObject({ name: "my-shop", main: ".kiln/worker.ts", build: { command: "npx kiln build" }, assets: { directory: "public", binding: "ASSETS" } });
    expect(toml.compatibility_date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(toml.build.watch_dir).toEqual(expect.arrayContaining(["functions", "templates"]));
    expect(toml.kv_namespaces).toEqual([{ binding: "SESSIONS", id: "my-shop-sessions" }]);
    expect(read("public/404.html")).toContain("Not found · my-shop");
    expect(read(".gitignore").split("\n")).toEqual(expect.arrayContaining(["node_modules/", ".kiln/", ".wrangler/", ".dev.vars"]));
    const secret = /^SESSION_SECRET="([\w-]{43})"\n$/.exec(read(".dev.vars"))?.[1];
    expect(secret).toBeDefined();
    const other = join(mkdtempSync(join(tmpdir(), "kiln-new-")), "other");
    kilnNew(other);
    expect(readFileSync(join(other, ".dev.vars"), "utf8")).not.toContain(secret);
  });

  it("pins the app's tools to the versions kiln is tested with, and depends on this kiln", () => {
    const app = join(mkdtempSync(join(tmpdir(), "kiln-new-")), "app");
    kilnNew(app);
    const own = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(["dev", "deploy", "test"]));
    for (const tool of ["wrangler", "vitest", "miniflare", "typescript"]) expect(pkg.devDependencies[tool]).toBe(own.devDependencies[tool]);
    // From a clone, the app uses the clone itself.
    expect(pkg.dependencies.kiln).toBe(`file:${REPO}`);
    expect(pkg.allowScripts).toEqual(own.allowScripts);
  });

  it("refuses a folder that is not empty, and a missing folder name, with exit 1", () => {
    const app = mkdtempSync(join(tmpdir(), "kiln-new-"));
    writeFileSync(join(app, "keep.txt"), "mine");
    const run = kilnNew(app);
    expect([run.status, run.stderr]).toEqual([1, `kiln: ${app} is not empty: kiln new writes a new app into a new or empty folder\n`]);
    expect(readFileSync(join(app, "keep.txt"), "utf8")).toBe("mine");
    const bare = spawnSync("node", [CLI, "new"], { encoding: "utf8" });
    expect([bare.status, bare.stderr]).toEqual([1, "kiln: kiln new needs a folder: kiln new my-app\n"]);
  });

  it("writes into an empty folder that exists", () => {
    const app = mkdtempSync(join(tmpdir(), "kiln-new-"));
    mkdirSync(join(app, "empty"));
    expect(kilnNew(join(app, "empty")).status).toBe(0);
  });
});
