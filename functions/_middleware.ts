import type { Handler } from "kiln";

// Runs around every request of the demo site: a request id for the logs.
export const onRequest: Handler = async ({ request, next, data }) => {
  data.requestId = crypto.randomUUID();
  const response = await next();
  if (response.status >= 500) console.error(`request ${data.requestId} failed: ${request.method} ${request.url}`);
  return response;
};
