// Responses the framework makes itself. They show no message or stack unless
// the app turned DEBUG on, and are never cached. Their headers are built once:
// filling a Headers from an object costs workerd more than the rest of a 404
// together (measured with bench/).

const TEXT = new Headers({ "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
const JSON_TYPE = new Headers({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });

export function wantsJson(accept: string | null): boolean {
  return accept !== null && accept.includes("json") && !accept.includes("text/html");
}

export function errorResponse(
  request: Request,
  status: number,
  message: string,
  error?: unknown,
  extraHeaders?: Record<string, string>,
): Response {
  const detail = error instanceof Error ? (error.stack ?? String(error)) : error === undefined ? undefined : String(error);
  const json = wantsJson(request.headers.get("accept"));
  const body = json
    ? JSON.stringify(detail === undefined ? { error: message, status } : { error: message, status, detail })
    : detail === undefined
      ? `${message}\n`
      : `${message}\n\n${detail}\n`;
  const response = new Response(request.method === "HEAD" ? null : body, { status, headers: json ? JSON_TYPE : TEXT });
  if (extraHeaders) for (const name in extraHeaders) response.headers.set(name, extraHeaders[name]);
  return response;
}
