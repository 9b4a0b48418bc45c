// A thrown error under `wrangler dev` with DEBUG on. The stack that workerd
// gives points into wrangler's bundle; Miniflare, which runs the Worker
// there, maps it back to the source files (functions/boom.ts:3) when the
// Worker answers 500 with the header below and the error as JSON: it logs the
// mapped error in the terminal and answers with its error page (browsers) or
// the mapped stack as text (other clients). Only the entry that kiln build
// writes under wrangler dev ships it (AppOptions `dev`): a deployed Worker
// keeps kiln's own DEBUG answer, and nothing answers that header there.

/** Miniflare's header (CoreHeaders.ERROR_STACK in its entry worker). */
export const ERROR_STACK_HEADER = "MF-Experimental-Error-Stack";

/** The error as Miniflare reads it: { name, message, stack, cause }, all optional strings but cause. */
interface JsonError {
  name?: string;
  message?: string;
  stack?: string;
  cause?: JsonError;
}

function toJson(err: unknown, depth = 0): JsonError {
  if (!(err instanceof Error)) {
    const message = String(err);
    return { name: "Error", message, stack: `Error: ${message}` };
  }
  const json: JsonError = { name: err.name, message: err.message, stack: err.stack ?? `${err.name}: ${err.message}` };
  if (err.cause !== undefined && depth < 8) json.cause = toJson(err.cause, depth + 1);
  return json;
}

/** The 500 that Miniflare turns into its error page, with the stack mapped; it also logs the error, so the caller does not. */
export function devErrorResponse(err: unknown): Response {
  return Response.json(toJson(err), { status: 500, headers: { [ERROR_STACK_HEADER]: "true", "cache-control": "no-store" } });
}
