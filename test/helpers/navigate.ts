// A request as a browser's page load makes it. Node's fetch (and so
// Miniflare's dispatchFetch) always sends Sec-Fetch-Mode: cors, which tells
// kiln "a script": a navigation has to go through node:http.
import { request } from "node:http";
import type { TestApp } from "./app.js";

export const BROWSER = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

export interface Navigation {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function navigate(app: TestApp, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Navigation> {
  const url = new URL(path, await app.mf.ready);
  return new Promise((done, fail) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers ?? BROWSER, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => done({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end(options.body);
  });
}

/**
 * A request as curl sends it, through node:http: no Fetch Metadata (Node's
 * fetch would add Sec-Fetch-Mode: cors) and curl's own Accept unless given. The
 * answer comes back as a Response, for code written against fetch.
 */
export async function asCurl(app: TestApp, path: string, init: { method?: string; headers?: Record<string, string>; body?: string | FormData } = {}): Promise<Response> {
  // wrangler dev --test-scheduled answers /__scheduled itself, and so does the test app's fetch (helpers/app.ts).
  if (path.startsWith("/__scheduled")) return app.fetch(path, init);
  const method = init.method ?? "GET";
  const prepared = init.body === undefined ? undefined : new Request("http://x/", { method: "POST", body: init.body });
  const headers: Record<string, string> = { accept: "*/*", "user-agent": "curl/8.5.0", ...init.headers };
  const type = prepared?.headers.get("content-type");
  if (type && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = type;
  const body = prepared ? Buffer.from(await prepared.arrayBuffer()) : undefined;
  // As curl: a length, never a chunked upload (an empty POST too).
  if (body || (method !== "GET" && method !== "HEAD")) headers["content-length"] = String(body?.length ?? 0);
  const url = new URL(path, await app.mf.ready);
  return new Promise((done, fail) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) for (const one of [value ?? []].flat()) out.append(name, one);
        const status = res.statusCode!;
        const bodyless = method === "HEAD" || status === 204 || status === 304;
        done(new Response(bodyless ? null : Buffer.concat(chunks), { status, headers: out }));
      });
    });
    req.on("error", fail);
    req.end(body);
  });
}
