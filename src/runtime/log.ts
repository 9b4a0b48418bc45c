// One line per request, as every web server's access log: JSON, so Workers
// Logs indexes its fields and `wrangler tail` shows it. On by default; the
// app's KILN_LOG var turns it "off", or samples it ("0.1" logs one request
// in ten). Workers advance the clock only across I/O, so `ms` is the time
// spent waiting (KV, fetch, assets), not CPU time.

/** The share of requests to log, from KILN_LOG: "on", "off", or a fraction; unset, the app's default (on for apps kiln build makes). */
export function logRate(setting: unknown, byDefault: boolean): number {
  if (setting === undefined) return byDefault ? 1 : 0;
  if (setting === "on" || setting === true) return 1;
  if (setting === "off" || setting === false) return 0;
  const rate = Number(setting);
  return Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 1;
}

/** cf-ray names the request in Cloudflare's own logs too; elsewhere (local dev) a fresh id. */
export function requestIdOf(request: Request): string {
  return request.headers.get("cf-ray") ?? crypto.randomUUID();
}

export interface LogFields {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestId: string;
  /** The route's pattern (kiln routes names its file); absent when no route matched. */
  route?: string;
}

export function logRequest(fields: LogFields): void {
  console.log(JSON.stringify(fields));
}

export function logError(requestId: string, err: unknown): void {
  const error = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  console.error(JSON.stringify({ level: "error", requestId, error }));
}
