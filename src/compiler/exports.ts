// Reads which handlers a route file exports, without running it.
// es-module-lexer reads TypeScript's erasable syntax as well as JavaScript, so
// no transform runs before it: reading 1,000 files stays well under a second.
import { createRequire } from "node:module";
import { init, parse } from "es-module-lexer";
import { HANDLER_EXPORTS } from "../runtime/routing.js";
import { nearest } from "./near.js";
import { stripExtension } from "./route-path.js";

const require = createRequire(import.meta.url);

/**
 * The parser's own message, line and column for a file es-module-lexer could
 * not read. The lexer only says where it stopped, often far from the mistake,
 * so esbuild (wrangler's bundler, installed beside it) parses the file again;
 * without esbuild, the lexer's position is all there is.
 */
function syntaxError(source: string, lexerError: unknown): string {
  try {
    const esbuild = require("esbuild") as typeof import("esbuild");
    esbuild.transformSync(source, { loader: "ts", format: "esm" });
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
    if (first?.location) return `syntax error at line ${first.location.line}, column ${first.location.column + 1}: ${first.text}`;
  }
  const at = /@:(\d+):(\d+)/.exec(String((lexerError as Error).message));
  return `syntax error${at ? ` at line ${at[1]}, column ${at[2]}` : ""}: kiln cannot read its exports`;
}

export interface HandlerExport {
  /** The exported name, e.g. onRequestGet. */
  name: string;
  method: string;
}

export class ExportError extends Error {}

export const lexerReady: Promise<void> = init();

export interface ModuleExports {
  handlers: HandlerExport[];
  /** Every value export by name, handlers included. */
  names: string[];
}

/** Call after `await lexerReady`. */
export function readHandlerExports(source: string): ModuleExports {
  let exports;
  try {
    [, exports] = parse(source);
  } catch (err) {
    throw new ExportError(syntaxError(source, err));
  }
  const handlers: HandlerExport[] = [];
  const names: string[] = [];
  for (const e of exports) {
    if (e.type === "reexport-all") {
      throw new ExportError(
        "`export * from` hides which handlers the file has: export them by name (export { onRequestGet } from ...)",
      );
    }
    if (e.typeOnly || e.name === undefined) continue;
    names.push(e.name);
    const method = HANDLER_EXPORTS[e.name];
    if (method) {
      handlers.push({ name: e.name, method });
    } else if (/^on_?request/i.test(e.name)) {
      throw new ExportError(`unknown handler export "${e.name}"${suggest(e.name)}`);
    }
  }
  return { handlers, names };
}

function suggest(name: string): string {
  const near = nearest(name.replace(/_/g, ""), Object.keys(HANDLER_EXPORTS));
  if (near.length) return `: did you mean ${near.map((n) => `"${n}"`).join(" or ")}?`;
  return `: handlers are ${Object.keys(HANDLER_EXPORTS).join(", ")}`;
}

/**
 * `Handler<"users/[id].ts">` types params from a path written by hand; the
 * build checks that it is the file's own path, so a renamed file cannot keep
 * stale param types.
 */
export function checkTypedPaths(source: string, file: string): void {
  const own = stripExtension(file);
  for (const [, path] of source.matchAll(/\b(?:Handler|EventContext|Params)<\s*["'`]([^"'`]*)["'`]/g)) {
    if (stripExtension(path) !== own) {
      throw new ExportError(`types its params as "${path}", but its own path is "${file}"`);
    }
  }
}
