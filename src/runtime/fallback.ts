// What answers when a chain runs out of handlers: the static assets (then
// 404), or the framework's 405 and OPTIONS answers for a path that exists.
import { errorResponse, notFound } from "./errors.js";
import type { Chain } from "./router.js";

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/**
 * One key for every path Workers Static Assets' html_handling may map to the
 * same file: /a/b.html, /a/b, /a/b/ → /a/b; /a/index.html, /a/index, /a/ → /a.
 * The build keys the files in public/ with it, the runtime the request path.
 */
export function assetKey(path: string): string {
  let key = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (key.endsWith(".html")) key = key.slice(0, -5);
  if (key.endsWith("/index")) key = key.slice(0, -6);
  return key || "/";
}

/** The part of request.url after the host and before the query: the URL is already normalised by the runtime. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query < 0 ? hash : hash < 0 ? query : Math.min(query, hash);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** False only when the build listed public/ and no file there can answer this path. */
function mayBeAsset(path: string, assets: Set<string> | undefined): boolean {
  if (!assets) return true;
  try {
    return assets.has(assetKey(path.includes("%") ? decodeURIComponent(path) : path));
  } catch {
    return true;
  }
}

/** `path` is request.url's path when the caller has it already (reading request.url again costs a copy). */
export function fromAssets(
  request: Request,
  env: Record<string, unknown>,
  assets: Set<string> | undefined,
  path = pathOf(request.url),
): Promise<Response> | Response {
  const binding = env.ASSETS as AssetsBinding | undefined;
  if (!binding || !mayBeAsset(path, assets)) return notFound(request);
  return binding.fetch(request).then((response) => (response.status === 404 ? notFound(request) : response));
}

export function endOfChain(
  chain: Chain,
  request: Request,
  env: Record<string, unknown>,
  assets: Set<string> | undefined,
  path?: string,
): Promise<Response> | Response {
  if (chain.end === "assets") return fromAssets(request, env, assets, path);
  const headers = { allow: chain.allow, "cache-control": "no-store" };
  if (chain.end === "options") return new Response(null, { status: 204, headers });
  return errorResponse(request, 405, "Method Not Allowed", undefined, headers);
}
