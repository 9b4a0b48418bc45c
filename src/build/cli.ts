#!/usr/bin/env node
// kiln build [--root DIR] [--out FILE] | kiln routes [--root DIR]
import { build, BuildError, formatRouteTable, loadRoutes } from "./index.js";

const USAGE = `usage:
  kiln build [--root DIR] [--out FILE]   compile DIR/functions into one Worker entry (default .kiln/worker.ts)
  kiln routes [--root DIR]               print the route table`;

function parseArgs(args: string[]): { command?: string; root?: string; out?: string } {
  const result: { command?: string; root?: string; out?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--root" || arg === "--out") {
      const value = args[++i];
      if (!value) throw new BuildError([`${arg} needs a value`]);
      result[arg === "--root" ? "root" : "out"] = value;
    } else if (!result.command && !arg.startsWith("-")) {
      result.command = arg;
    } else {
      throw new BuildError([`unknown argument "${arg}"`]);
    }
  }
  return result;
}

async function main(): Promise<void> {
  const { command, root, out } = parseArgs(process.argv.slice(2));
  if (command === "build") {
    const started = performance.now();
    const { table, outFile } = await build({ root, out });
    const ms = Math.round(performance.now() - started);
    console.log(`kiln: ${table.routes.length} routes, ${table.middleware.length} middleware → ${outFile} (${ms} ms)`);
  } else if (command === "routes") {
    console.log(formatRouteTable(await loadRoutes(root)));
  } else {
    console.log(USAGE);
    if (command !== "help" && command !== undefined) process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  if (err instanceof BuildError) {
    console.error(`kiln: build failed\n${err.problems.map((p) => `  ${p}`).join("\n")}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
