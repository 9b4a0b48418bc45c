// What the demo shop does besides answering requests: the nightly restock,
// the consumer of the order queue, and the stock counter (a Durable Object).
// kiln's generated entry exports these beside the routes' fetch.
import type { QueueHandler, ScheduledHandler } from "kiln";
import { orderKey, type Order, type OrdersEnv, type RecordedOrder } from "./lib/orders.ts";
import { allProducts, type CatalogEnv } from "./lib/products.ts";
import { NIGHTLY_BATCH, stockOf, type StockEnv } from "./lib/stock.ts";

export { Stock } from "./lib/stock.ts";

/** Every night at 03:00 (wrangler.toml's crons) the kiln is fired: each product is topped up to the nightly batch. */
export const scheduled: ScheduledHandler<CatalogEnv & StockEnv> = async (_controller, env) => {
  const products = await allProducts(env);
  await Promise.all(products.map((product) => stockOf(env, product.id).restock(NIGHTLY_BATCH)));
};

/** Records each order with the confirmation email the shop would send, written from a template. */
export const queue: QueueHandler<Order, OrdersEnv> = async (batch, env, _ctx, kiln) => {
  for (const message of batch.messages) {
    const order = message.body;
    const recorded: RecordedOrder = { ...order, confirmation: kiln.render("order-email.html", { order }) };
    // A message may come twice (a retry after a failed ack): the same key, the same record.
    await env.ORDERS.put(orderKey(order.id), JSON.stringify(recorded));
    message.ack();
  }
};
