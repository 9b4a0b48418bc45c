// The end of every chain: the static files in public/ (then the 404 page, or
// index.html for a single-page app), or the framework's 405 and OPTIONS
// answers for a path that exists.
import { errorResponse, isPageLoad, notFoundResponse } from "./errors.js";
import type { Chain } from "./router.js";

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/** What `kiln build` learnt about public/. */
export interface StaticFilesInput {
  /** The key (assetKey) of every file; absent when the runtime must always ask env.ASSETS. */
  keys?: string[];
  /** Statuses with a page in public/ (404.html, 500.html): browsers get it with that status. */
  pages?: number[];
  /** Folders without an index.html, when listings are on: folder key → entries ("name", or "name/" for a folder). */
  listings?: Record<string, string[]>;
  /** A single-page app: browser navigations that nothing serves get public/index.html. */
  spa?: boolean;
}

type Env = Record<string, unknown>;

/** The code for what only some apps have; the entry passes each part in only when the build saw a use for it. */
export interface StaticFilesParts {
  /** Renders a listing: listings are on (src/runtime/listing.ts). */
  listing?: (key: string, entries: string[]) => Response;
  /** Serves public/404.html and its kind: public/ has one (`pageFromAssets`). */
  statusPages?: typeof pageFromAssets;
  /** Serves a single-page app's shell: the app is one (`appShell`). */
  spa?: typeof appShell;
}

export interface StaticFiles extends StaticFilesParts {
  keys: Set<string> | undefined;
  pages: number[];
  listings: Record<string, string[]> | undefined;
}

export function staticFiles(input: StaticFilesInput = {}, parts: StaticFilesParts = {}): StaticFiles {
  return { keys: input.keys && new Set(input.keys), pages: input.pages ?? [], listings: input.listings, ...parts };
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

/**
 * The asset key of a request path, or null when no file can answer it: a
 * segment that decodes to a slash (%2F, %5C) is one segment to the router,
 * so its folder's middleware never ran, and must not become a path to a file.
 */
function decodedKey(path: string): string | null {
  if (!path.includes("%")) return assetKey(path);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  return /%2f|%5c/i.test(path) || decoded.includes("\0") ? null : assetKey(decoded);
}

/**
 * The app's page for a status (public/404.html, public/500.html) when a
 * browser asks and the app has one; otherwise undefined.
 */
export function statusPage(
  request: Request,
  env: Env,
  files: StaticFiles,
  status: number,
  accept = request.headers.get("accept"),
): Promise<Response> | undefined {
  return files.statusPages?.(request, env, files, status, accept);
}

export function pageFromAssets(request: Request, env: Env, files: StaticFiles, status: number, accept: string | null): Promise<Response> | undefined {
  const assets = env.ASSETS as AssetsBinding | undefined;
  if (!files.pages.includes(status) || !assets || !accept?.includes("text/html")) return undefined;
  const method = request.method === "HEAD" ? "HEAD" : "GET";
  return assets.fetch(new Request(new URL(`/${status}`, request.url), { method })).then((page) =>
    page.ok
      ? new Response(page.body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } })
      : errorResponse(request, status, "Error"),
  );
}

/**
 * The framework's 404: the app's public/404.html for browsers, JSON for
 * clients that ask for it, else plain text; `no-store`, like every answer
 * the framework makes itself.
 */
export function notFound(request: Request, env: Env, files: StaticFiles, method = request.method): Promise<Response> | Response {
  // Accept is read once: a header read costs a trip into the runtime.
  const accept = request.headers.get("accept");
  const shell = files.spa?.(request, env, accept);
  if (shell) return shell;
  return statusPage(request, env, files, 404, accept) ?? notFoundResponse(request, accept, method);
}

/** A GET or HEAD page load: only those get a single-page app's shell. */
function isNavigation(request: Request, accept: string | null): boolean {
  const method = request.method;
  return (method === "GET" || method === "HEAD") && isPageLoad(request, accept);
}

/** public/index.html with status 200, as Pages serves a single-page app; the client-side router takes the path from there. */
export function appShell(request: Request, env: Env, accept: string | null): Promise<Response> | undefined {
  if (!isNavigation(request, accept)) return undefined;
  const assets = env.ASSETS as AssetsBinding;
  return assets
    .fetch(new Request(new URL("/", request.url), { method: request.method }))
    .then((page) => (page.ok ? page : notFoundResponse(request, accept)));
}


/** `path` and `method` are request.url's path and request.method when the caller has them already: each read of a Request's property is a trip into the runtime. */
export function fromAssets(
  request: Request,
  env: Env,
  files: StaticFiles,
  path = pathOf(request.url),
  method?: string,
): Promise<Response> | Response {
  const binding = env.ASSETS as AssetsBinding | undefined;
  const key = decodedKey(path);
  if (key === null || !binding) return notFound(request, env, files, method);
  const list = files.listings?.[key];
  if (list && files.listing) return files.listing(key, list);
  // Ask the assets only when the build's list says a file may answer (or there is no list).
  if (files.keys && !files.keys.has(key)) return notFound(request, env, files, method);
  return binding.fetch(request).then((response) => (response.status === 404 ? notFound(request, env, files) : response));
}

export function endOfChain(
  chain: Chain,
  request: Request,
  env: Env,
  files: StaticFiles,
  path?: string,
  method?: string,
): Promise<Response> | Response {
  if (chain.end === "assets") return fromAssets(request, env, files, path, method);
  const headers = { allow: chain.allow, "cache-control": "no-store" };
  if (chain.end === "options") return new Response(null, { status: 204, headers });
  return errorResponse(request, 405, "Method Not Allowed", undefined, headers);
}
