// Throttling, exact under concurrency: each key is counted by a Durable
// Object of its own (class KilnRateLimiter, bound as RATE_LIMITS), which runs
// one request at a time. KV could not count (one write a second per key, and
// no compare-and-set); the Workers Rate Limiting binding is approximate,
// per location. The count is a sliding log: at most `limit` calls in any
// `windowSeconds`, with the times kept in the object's SQLite storage.
import { StoreUnavailableError } from "./unavailable.js";

export interface RateLimitOptions {
  /** Calls allowed in any window. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  ok: boolean;
  /** Whole seconds until a call would be allowed again; 0 when `ok`. */
  retryAfter: number;
}

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

const MAX_WINDOW = 366 * 24 * 3600;
const MAX_LIMIT = 10_000;

/**
 * Counts one call for `key` (an account, a client address) and says whether
 * it is within `limit` calls per `windowSeconds`. Calls refused do not count.
 * A fault of the Durable Object is a StoreUnavailableError: the request gets
 * 503, never an unthrottled pass.
 */
export async function rateLimit(context: { env: unknown }, key: string, options: RateLimitOptions): Promise<RateLimitResult> {
  const { limit, windowSeconds } = options ?? ({} as RateLimitOptions);
  if (typeof key !== "string" || key === "") throw new TypeError("rateLimit: the key must be a non-empty string");
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`rateLimit: limit must be a whole number from 1 to ${MAX_LIMIT}`);
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW) {
    throw new RangeError(`rateLimit: windowSeconds must be a whole number from 1 to ${MAX_WINDOW}`);
  }
  const namespace = (context.env as Record<string, unknown> | undefined)?.RATE_LIMITS as Namespace | undefined;
  if (!namespace || typeof namespace.idFromName !== "function") {
    throw new Error('rateLimit needs a Durable Object namespace bound as RATE_LIMITS, with class_name = "KilnRateLimiter": see docs/auth.md');
  }
  let answer: RateLimitResult;
  try {
    const stub = namespace.get(namespace.idFromName(key));
    const response = await stub.fetch(`https://rate-limit.kiln/?limit=${limit}&window=${windowSeconds}`, { method: "POST" });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    answer = (await response.json()) as RateLimitResult;
  } catch (err) {
    throw new StoreUnavailableError(`rateLimit: the RATE_LIMITS Durable Object failed: ${String(err)}`);
  }
  return { ok: answer.ok === true, retryAfter: answer.ok === true ? 0 : Math.max(1, Number(answer.retryAfter) || 1) };
}

interface SqlStorage {
  exec(query: string, ...bindings: unknown[]): { one(): Record<string, unknown> };
}

interface DurableObjectStateLike {
  storage: { sql: SqlStorage; setAlarm(ms: number): Promise<void>; deleteAll(): Promise<void> };
}

/**
 * The Durable Object that counts one key. Export it from the Worker (kiln
 * build does, when wrangler.toml binds it) and declare it in a
 * `new_sqlite_classes` migration.
 */
export class KilnRateLimiter {
  #state: DurableObjectStateLike;
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const limit = Number(params.get("limit"));
    const window = Number(params.get("window")) * 1000;
    if (!(limit >= 1 && window >= 1000)) return new Response("limit and window are required", { status: 400 });
    const now = Date.now();
    // The count and the insert are synchronous: with no await between them, no other request to this object runs in between.
    const sql = this.#state.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)");
    sql.exec("DELETE FROM hits WHERE at <= ?", now - window);
    const { n, first } = sql.exec("SELECT COUNT(*) AS n, MIN(at) AS first FROM hits").one() as { n: number; first: number | null };
    if (n >= limit) return Response.json({ ok: false, retryAfter: Math.max(1, Math.ceil(((first ?? now) + window - now) / 1000)) });
    sql.exec("INSERT INTO hits (at) VALUES (?)", now);
    // Once the window has passed with no call, the object forgets the key: no storage left behind.
    await this.#state.storage.setAlarm(now + window);
    return Response.json({ ok: true, retryAfter: 0 });
  }

  async alarm(): Promise<void> {
    await this.#state.storage.deleteAll();
  }
}
