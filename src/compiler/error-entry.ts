// Under `wrangler dev`, a failed build leaves wrangler with no Worker to
// reload, and the browser's request waits until the file is fixed. So there,
// and only there (deploys and CI must still fail), kiln build writes an entry
// that answers every request with the build error, and wrangler serves it
// until the next build replaces it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ownClassBindings, readWranglerConfig } from "./wrangler-config.js";

/** wrangler sets WRANGLER_COMMAND for the custom builds it runs: "dev" under wrangler dev, "deploy" for deploys. */
export function servesBuildErrors(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WRANGLER_COMMAND === "dev";
}

/** Writes the entry that shows PROBLEMS; returns its path. */
export function writeErrorEntry(problems: string[], options: { root?: string; out?: string } = {}): string {
  const root = resolve(options.root ?? ".");
  const outFile = resolve(options.out ?? join(root, ".kiln/worker.ts"));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, errorEntrySource(problems, boundClasses(root)));
  return outFile;
}

/** workerd refuses to start a Worker that lacks a class its config binds, and then there would be no page at all. */
function boundClasses(root: string): string[] {
  try {
    return [...new Set(ownClassBindings(readWranglerConfig(root)).map((b) => b.className))].filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
  } catch {
    return []; // the config itself is one of the problems
  }
}

export function errorEntrySource(problems: string[], classes: string[] = []): string {
  const lines = [
    "// Written by kiln build under wrangler dev: the build failed, and every request gets its error until it is fixed.",
    `const problems: string[] = ${JSON.stringify(problems)};`,
    `const escape = (s: string) => s.replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");`,
    "function answer(request: Request): Response {",
    '  const accept = request.headers.get("accept") ?? "";',
    '  const headers = { "cache-control": "no-store" };',
    '  if (accept.includes("application/json")) return Response.json({ error: "kiln build failed", status: 500, problems }, { status: 500, headers });',
    '  if (!accept.includes("text/html")) return new Response(`kiln build failed\\n${problems.map((p) => `  ${p}\\n`).join("")}`, { status: 500, headers });',
    "  const items = problems.map((p) => `<li><pre>${escape(p)}</pre></li>`).join(\"\");",
    '  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kiln build failed</title>' +
      '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#fee;padding:.5rem 1rem;border-left:4px solid #c00}</style></head>' +
      '<body><h1>kiln build failed</h1><ul>${items}</ul><p>Fix it and save: wrangler dev rebuilds, and a reload of this page shows your app.</p></body></html>`;',
    '  return new Response(page, { status: 500, headers: { ...headers, "content-type": "text/html; charset=utf-8" } });',
    "}",
    "export default { fetch: answer };",
    ...classes.map((name) => `export class ${name} { fetch(request: Request): Response { return answer(request); } }`),
    "",
  ];
  return lines.join("\n");
}
