// The runtime side of kiln: runs inside the Worker, Web APIs only.
export { createHandler } from "./handler.js";
export type { RouteEntry, RoutePlan } from "./router.js";
export type { AppEnv, EventContext, Handler, Params } from "./types.js";
export { mount, contextOf, type Mountable } from "./mount.js";
export type { EmailHandler, IncomingEmail, QueueBatch, QueueHandler, QueueMessage, ScheduledController, ScheduledHandler, TailHandler, WorkerTools } from "./worker.js";
export { SessionConfigError, SessionSizeError, type Session } from "./session.js";
export { KilnSessionStore, SessionLockTimeoutError } from "./session-object.js";
export { purge, type CacheExport, type CachePolicy } from "./cache.js";
export { escapeHtml, html, htmlResponse, HtmlString, raw } from "./html.js";
export { urlFor } from "./url-for.js";
export { DEFAULT_CSP, DEFAULT_HEADERS, type CspDeclaration, type HeadersDeclaration } from "./security.js";
export type { CorsPolicy } from "./cors.js";
export { InputError, type Fields, type FormOptions } from "./input.js";
export { hashPassword, verifyPassword, needsRehash, PBKDF2_ITERATIONS } from "./password.js";
export { login, logout, currentUser, safeNext, type Access, type AccessRule, type LoginUser, type User } from "./auth.js";
export { rateLimit, KilnRateLimiter, type RateLimitOptions, type RateLimitResult } from "./rate-limit.js";
export { basicAuth, bearerAuth, type BasicAuthOptions, type BearerAuthOptions, type Credential } from "./http-auth.js";
export { StoreUnavailableError } from "./unavailable.js";
