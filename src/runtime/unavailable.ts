// A store the framework depends on failed (KV, a Durable Object): the
// request is answered 503 with Retry-After, never a 500, and nothing claims
// to have happened. Thrown from inside a handler (rateLimit, logout
// everywhere), answered by the handler's catch through AnsweredError.
import { errorResponse, type AnsweredError } from "./errors.js";

export class StoreUnavailableError extends Error implements AnsweredError {
  override name = "StoreUnavailableError";
  kilnAnswer(request: Request): Response {
    console.warn(`kiln: ${this.message}`);
    return errorResponse(request, 503, "Service Unavailable: a store failed. Please try again.", undefined, { "retry-after": "1" });
  }
}
