#!/usr/bin/env node
// kiln build [--root DIR] [--out FILE] | kiln routes [--root DIR]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, BuildError, formatRouteTable, loadRoutes } from "./index.js";
import { nearest } from "./near.js";
import { newApp, newAppProblem } from "./new.js";
import { servesBuildErrors, writeErrorEntry } from "./error-entry.js";
import { BuildStamp } from "./build-stamp.js";

const USAGE = `usage:
  kiln build [--root DIR] [--out FILE] [--assets DIR] [--listings] [--spa | --no-spa]
      compile DIR/functions into one Worker entry (default .kiln/worker.ts);
      --assets names the static files folder, as in wrangler.toml (default public);
      --listings lists the files of folders that have no index.html;
      --spa / --no-spa: browser navigations that nothing serves get index.html, or not
      (default: as Pages, a single-page app when there is an index.html and no 404.html)
  kiln routes [--root DIR]               print the route table
  kiln new DIR [--no-install]            write a new app into DIR and install its dependencies
  kiln help, kiln --help, kiln -h        print this
  kiln --version                         print kiln's version`;

type Args = { command?: string; dir?: string; install?: boolean; root?: string; out?: string; assets?: string; listings?: boolean; spa?: boolean };
const OPTIONS: Record<string, "root" | "out" | "assets"> = { "--root": "root", "--out": "out", "--assets": "assets" };

function parseArgs(args: string[]): Args {
  const result: Args = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--listings") {
      result.listings = true;
    } else if (arg === "--spa" || arg === "--no-spa") {
      result.spa = arg === "--spa";
    } else if (OPTIONS[arg]) {
      const value = args[++i];
      if (!value) throw new BuildError([`${arg} needs a value`]);
      result[OPTIONS[arg]] = value;
    } else if (!result.command && !arg.startsWith("-")) {
      result.command = arg;
    } else if (result.command === "new" && !result.dir && !arg.startsWith("-")) {
      result.dir = arg;
    } else if (result.command === "new" && arg === "--no-install") {
      result.install = false;
    } else {
      throw new BuildError([`unknown argument "${arg}"`]);
    }
  }
  return result;
}

const COMMANDS = ["build", "routes", "new", "help"];

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string };
  return pkg.version;
}

async function runBuild(options: Args, args: string[]): Promise<void> {
  const started = performance.now();
  const dev = servesBuildErrors();
  // Under wrangler dev only: a second build of the same files, which wrangler 4.86 runs at start-up, does nothing (build-stamp.ts).
  const stamp = dev ? new BuildStamp({ ...options, args, dev }) : undefined;
  if (stamp?.unchanged()) return;
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({ ...options, dev });
  } catch (err) {
    stamp?.forget();
    if (!(err instanceof BuildError) || !servesBuildErrors()) throw err;
    // Exit 0, so that wrangler dev serves the page that shows the error instead of holding every request.
    printBuildFailure(err);
    const file = writeErrorEntry(err.problems, options);
    return void console.error(`kiln: until the next build, wrangler dev answers every request with this error (${file})`);
  }
  stamp?.record();
  for (const note of result.notes) console.log(`kiln: ${note}`);
  const ms = Math.round(performance.now() - started);
  const { table, outFile } = result;
  console.log(`kiln: ${count(table.routes.length, "route")}, ${count(table.middleware.length, "middleware", "middleware")} → ${outFile} (${ms} ms)`);
}

function printBuildFailure(err: BuildError): void {
  console.error(`kiln: build failed\n${err.problems.map((p) => `  ${p}`).join("\n")}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--version") || argv.includes("-v")) return void console.log(`kiln ${version()}`);
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) return void console.log(USAGE);
  const { command, dir, install, root, out, assets, listings, spa } = parseArgs(argv);
  if (command === "build") {
    await runBuild({ root, out, assets, listings, spa }, argv);
  } else if (command === "routes") {
    console.log(formatRouteTable(await loadRoutes(root)));
  } else if (command === "new") {
    const problem = dir ? newAppProblem(dir) : "kiln new needs a folder: kiln new my-app";
    if (problem) return void ((process.exitCode = 1), console.error(`kiln: ${problem}`));
    const name = newApp(dir!, { install });
    console.log(`kiln: wrote ${name} in ${dir}. Next:\n  cd ${dir}\n${install === false ? "  npm install\n" : ""}  npm run dev      # http://localhost:8787\n  npm test`);
  } else if (command === "help") {
    console.log(USAGE);
  } else {
    const near = nearest(command ?? "", COMMANDS);
    console.error(`kiln: unknown command "${command}"${near.length ? `: did you mean "${near[0]}"?` : ""}\n\n${USAGE}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  if (err instanceof BuildError) {
    printBuildFailure(err);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
