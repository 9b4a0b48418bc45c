// The classes of the runtime's "cloudflare:workers" module that the demo (and
// test/fixtures/worker) extend, typed by hand for this repository's own type
// check. An app gets them, and its Env, from `wrangler types` (docs/worker.md);
// this repository type-checks Node tests beside the Worker code, and the
// generated Web types would change the DOM's under them.
declare module "cloudflare:workers" {
  interface DurableObjectState {
    readonly id: { toString(): string; readonly name?: string };
    readonly storage: {
      readonly kv: { get<T = unknown>(key: string): T | undefined; put(key: string, value: unknown): void; delete(key: string): boolean };
    };
    waitUntil(promise: Promise<unknown>): void;
  }
  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
  export abstract class WorkerEntrypoint<Env = unknown> {
    protected ctx: { waitUntil(promise: Promise<unknown>): void };
    protected env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
