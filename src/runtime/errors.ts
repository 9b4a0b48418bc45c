// Responses the framework makes itself. They are never cached, and they show
// no message or stack unless the app turned DEBUG on.

function wantsJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("json") && !accept.includes("text/html");
}

export function errorResponse(
  request: Request,
  status: number,
  message: string,
  error?: unknown,
  headers: Record<string, string> = {},
): Response {
  const detail = error instanceof Error ? (error.stack ?? String(error)) : error === undefined ? undefined : String(error);
  const json = wantsJson(request);
  const body = json
    ? JSON.stringify(detail === undefined ? { error: message, status } : { error: message, status, detail })
    : detail === undefined
      ? `${message}\n`
      : `${message}\n\n${detail}\n`;
  return new Response(request.method === "HEAD" ? null : body, {
    status,
    headers: {
      "content-type": json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

export function notFound(request: Request): Response {
  return errorResponse(request, 404, "Not Found");
}
