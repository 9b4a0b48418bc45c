// The stock of each product: one Durable Object per product, so that two
// buyers of the last mug are served one after the other and only one gets it.
// Exported from functions/_worker.ts; wrangler.toml binds it as STOCK.
import { DurableObject } from "cloudflare:workers";
import type { Cart } from "./catalog.ts";

/** What the kiln turns out each night, per product: the nightly job tops every product up to it. */
export const NIGHTLY_BATCH = 5;

export class Stock extends DurableObject {
  /** Takes `quantity` if there are that many left: the check and the write have no await between them, so no other call runs in between. */
  take(quantity: number): { ok: boolean; left: number } {
    const left = this.#left();
    if (quantity > left) return { ok: false, left };
    this.ctx.storage.kv.put("left", left - quantity);
    return { ok: true, left: left - quantity };
  }

  /** Gives back what a checkout took and could not use. */
  give(quantity: number): void {
    this.ctx.storage.kv.put("left", this.#left() + quantity);
  }

  left(): number {
    return this.#left();
  }

  restock(batch: number): void {
    this.ctx.storage.kv.put("left", Math.max(this.#left(), batch));
  }

  #left(): number {
    return this.ctx.storage.kv.get<number>("left") ?? NIGHTLY_BATCH;
  }
}

/** A Stock object seen from a route: each method is a call to it (RPC), so each returns a Promise. */
type StockStub = { [K in "take" | "give" | "left" | "restock"]: (...args: Parameters<Stock[K]>) => Promise<ReturnType<Stock[K]>> };

/** The STOCK binding, as `wrangler types` would type it in an app (DurableObjectNamespace<Stock>). */
export interface StockEnv {
  STOCK: { idFromName(name: string): unknown; get(id: unknown): StockStub };
}

export const stockOf = (env: StockEnv, product: string) => env.STOCK.get(env.STOCK.idFromName(product));

/**
 * Takes a whole cart, or nothing: a product short of stock gives back what was
 * taken of the others, and is named with what is left of it.
 */
export async function takeCart(env: StockEnv, cart: Cart): Promise<{ short?: string; left: number }> {
  const taken: [string, number][] = [];
  for (const [product, quantity] of Object.entries(cart)) {
    const { ok, left } = await stockOf(env, product).take(quantity);
    if (!ok) {
      await Promise.all(taken.map(([id, n]) => stockOf(env, id).give(n)));
      return { short: product, left };
    }
    taken.push([product, quantity]);
  }
  return { left: 0 };
}
