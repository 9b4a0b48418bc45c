// Reads which handlers a route file exports, without running it.
// es-module-lexer reads TypeScript's erasable syntax as well as JavaScript, so
// no transform runs before it: reading 1,000 files stays well under a second.
import { init, parse } from "es-module-lexer";
import { HANDLER_EXPORTS } from "../runtime/routing.js";
import { stripExtension } from "./route-path.js";

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
    const at = /@:(\d+):(\d+)/.exec(String((err as Error).message));
    throw new ExportError(`syntax error${at ? ` at line ${at[1]}, column ${at[2]}` : ""}: kiln cannot read its exports`);
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
  const lower = name.toLowerCase().replace(/_/g, "");
  const match = Object.keys(HANDLER_EXPORTS).find((k) => k.toLowerCase() === lower);
  return match
    ? `: did you mean "${match}"?`
    : `: handlers are ${Object.keys(HANDLER_EXPORTS).join(", ")}`;
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
