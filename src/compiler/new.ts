// `kiln new DIR`: a complete app from scaffold/ (shipped in the package), with
// its own secret, its package.json pinned to the tools kiln itself is tested
// with, and its dependencies installed, so `npm run dev` works at once.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BuildError } from "./scan.js";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCAFFOLD = join(PACKAGE_ROOT, "scaffold");
/** The dev tools the app gets, at the versions kiln's own tests run. */
const TOOLS = ["typescript", "vitest", "miniflare", "wrangler"];
/** npm leaves .gitignore files out of a packed package, so the scaffold names it without the dot. */
const RENAMED: Record<string, string> = { gitignore: ".gitignore" };

type Json = Record<string, unknown>;

export interface NewAppOptions {
  /** Skip `npm install` in the new app. */
  install?: boolean;
}

/** Writes the app into DIR (which must be missing or empty); returns its name. */
export function newApp(dir: string, options: NewAppOptions = {}): string {
  const problem = newAppProblem(dir);
  if (problem) throw new BuildError([problem]);
  const root = resolve(dir);
  const name = appName(root);
  cpSync(SCAFFOLD, root, { recursive: true });
  for (const [from, to] of Object.entries(RENAMED)) renameSync(join(root, from), join(root, to));
  for (const file of ["wrangler.toml", "templates/layout.html", "public/404.html"]) {
    writeFileSync(join(root, file), readFileSync(join(root, file), "utf8").replaceAll("__APP_NAME__", name));
  }
  writeFileSync(join(root, ".dev.vars"), `SESSION_SECRET="${randomBytes(32).toString("base64url")}"\n`);
  writeFileSync(join(root, "package.json"), `${JSON.stringify(packageJson(name), null, 2)}\n`);
  if (options.install !== false) execFileSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  return name;
}

/** Why DIR cannot take a new app, if it cannot. */
export function newAppProblem(dir: string): string | undefined {
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length) return `${dir} is not empty: kiln new writes a new app into a new or empty folder`;
  return undefined;
}

/** A Worker's name: lowercase letters, digits and dashes, as wrangler requires. */
function appName(root: string): string {
  const name = basename(root).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
  return name || "my-app";
}

function packageJson(name: string): Json {
  const kiln = readJson(join(PACKAGE_ROOT, "package.json"));
  const devDependencies = Object.fromEntries(TOOLS.map((tool) => [tool, (kiln.devDependencies as Record<string, string>)[tool]]));
  return {
    name,
    private: true,
    type: "module",
    scripts: {
      dev: "wrangler dev",
      deploy: "wrangler deploy",
      // wrangler types writes worker-configuration.d.ts, the bindings' types that tsconfig.json reads.
      test: "wrangler types && tsc && vitest run",
    },
    dependencies: { kiln: kilnSpec(String(kiln.version)) },
    devDependencies,
    // npm runs no install script it is not told to: esbuild's and workerd's fetch nothing, and make them start faster.
    allowScripts: kiln.allowScripts,
  };
}

/**
 * The new app depends on kiln as the project running this kiln does: the same
 * tarball or folder (made absolute), or the same version range. A kiln run from
 * a clone of its repository is that folder.
 */
function kilnSpec(version: string): string {
  const modules = dirname(PACKAGE_ROOT.replace(/[\\/]$/, ""));
  if (basename(modules) !== "node_modules") return `file:${PACKAGE_ROOT.replace(/[\\/]$/, "")}`;
  const project = dirname(modules);
  let pkg: Json = {};
  if (existsSync(join(project, "package.json"))) pkg = readJson(join(project, "package.json"));
  const spec = (pkg.dependencies as Record<string, string> | undefined)?.kiln ?? (pkg.devDependencies as Record<string, string> | undefined)?.kiln;
  if (!spec) return `^${version}`;
  const path = spec.startsWith("file:") ? spec.slice(5) : spec;
  if (spec.startsWith("file:") || path.startsWith(".") || isAbsolute(path)) return `file:${resolve(project, path)}`;
  return spec;
}

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, "utf8")) as Json;
}
