// The types of functions/_worker.ts: the handlers Cloudflare calls besides
// fetch, each given kiln's tools as a fourth argument by the generated entry.
// Types only: the shapes are Cloudflare's, written out so that an app compiles
// with or without @cloudflare/workers-types; `env` is the app's (AppEnv).
import type { AppEnv, ExecutionContextLike } from "./types.js";

/** What kiln gives the handlers of functions/_worker.ts, beside `env`. */
export interface WorkerTools {
  /** templates/NAME rendered to text, escaped as in a page (an email body, a report); no `request`, no `flashes`. */
  render(name: string, data?: Record<string, unknown>): string;
}

export interface ScheduledController {
  /** The cron pattern that fired, as written in wrangler.toml's [triggers] crons. */
  readonly cron: string;
  /** When it was due, in milliseconds since the epoch. */
  readonly scheduledTime: number;
  noRetry(): void;
}

export interface QueueMessage<Body = unknown> {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: Body;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface QueueBatch<Body = unknown> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

/** An email routed to the Worker (Email Routing). */
export interface IncomingEmail {
  readonly from: string;
  readonly to: string;
  readonly headers: Headers;
  readonly raw: ReadableStream<Uint8Array>;
  readonly rawSize: number;
  setReject(reason: string): void;
  forward(rcptTo: string, headers?: Headers): Promise<unknown>;
}

type Returns = void | Promise<void>;

/** `export const scheduled: ScheduledHandler = async (controller, env, ctx, kiln) => ...`: runs on wrangler.toml's crons. */
export type ScheduledHandler<Env = AppEnv> = (controller: ScheduledController, env: Env, ctx: ExecutionContextLike, kiln: WorkerTools) => Returns;
/** `export const queue: QueueHandler<Order> = async (batch, env, ctx, kiln) => ...`: the consumer of wrangler.toml's queues.consumers. */
export type QueueHandler<Body = unknown, Env = AppEnv> = (batch: QueueBatch<Body>, env: Env, ctx: ExecutionContextLike, kiln: WorkerTools) => Returns;
/** `export const email: EmailHandler = async (message, env, ctx, kiln) => ...`: mail sent to an Email Routing address. */
export type EmailHandler<Env = AppEnv, Message = IncomingEmail> = (message: Message, env: Env, ctx: ExecutionContextLike, kiln: WorkerTools) => Returns;
/** `export const tail: TailHandler = async (events, env, ctx, kiln) => ...`: the events of the Workers this one tails. */
export type TailHandler<Env = AppEnv, Event = unknown> = (events: Event[], env: Env, ctx: ExecutionContextLike, kiln: WorkerTools) => Returns;
