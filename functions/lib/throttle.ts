// Throttling of the demo's account forms, counted by kiln's rateLimit in the
// KilnRateLimiter Durable Object (wrangler.toml binds it as RATE_LIMITS).
import { rateLimit, type EventContext } from "kiln";

/** The client's address, as Cloudflare's edge reports it (a client cannot set this header there). */
export const clientAddress = (request: Request) => request.headers.get("cf-connecting-ip") ?? "unknown";

/** The first limit that is used up, as the seconds to wait; undefined when every key may go on. Every key counts the attempt. */
export async function throttled(context: EventContext, limits: [key: string, limit: number, windowSeconds: number][]): Promise<number | undefined> {
  for (const [key, limit, windowSeconds] of limits) {
    const { ok, retryAfter } = await rateLimit(context, key, { limit, windowSeconds });
    if (!ok) return retryAfter;
  }
  return undefined;
}
