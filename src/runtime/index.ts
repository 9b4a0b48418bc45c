// The runtime side of kiln: runs inside the Worker, Web APIs only.
export { createHandler } from "./handler.js";
export type { RouteEntry } from "./router.js";
export type { EventContext, Handler, Params } from "./types.js";
export { SessionConfigError, SessionSizeError, type Session } from "./session.js";
export { purge, type CacheExport, type CachePolicy } from "./cache.js";
export { escapeHtml, html, htmlResponse, HtmlString, raw } from "./html.js";
