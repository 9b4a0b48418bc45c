// The cart's checkout: takes the stock (a Durable Object per product, so the
// last mug goes to one buyer only), then hands the order to the queue, whose
// consumer (functions/_worker.ts) records it.
import type { Handler } from "kiln";
import type { Cart } from "./lib/catalog.ts";
import type { OrderLine, OrdersEnv } from "./lib/orders.ts";
import { findProduct, type CatalogEnv } from "./lib/products.ts";
import { takeCart, type StockEnv } from "./lib/stock.ts";

const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } });

export const onRequestPost: Handler<"checkout.ts", CatalogEnv & StockEnv & OrdersEnv> = async ({ session, env, form }) => {
  await form(); // checks the session's CSRF token when the browser sends no Fetch Metadata
  // A cart line added while the order is placed waits, rather than vanish with the cart.
  await session.lock();
  const cart = (await session.get<Cart>("cart")) ?? {};
  const lines = (await Promise.all(Object.entries(cart).map(async ([id, quantity]) => ({ product: await findProduct(env, id), quantity }))))
    .filter((l) => l.product)
    .map(({ product, quantity }): OrderLine => ({ id: product!.id, name: product!.name, price: product!.price, quantity }));
  if (!lines.length) {
    await session.flash("notice", "Your cart is empty.");
    return seeOther("/cart");
  }
  const { short, left } = await takeCart(env, Object.fromEntries(lines.map((l) => [l.id, l.quantity])));
  if (short) {
    const name = lines.find((l) => l.id === short)!.name;
    await session.flash("notice", left ? `Sorry: only ${left} × ${name} left.` : `Sorry: ${name} is sold out until tomorrow.`);
    return seeOther("/cart");
  }
  const order = { id: crypto.randomUUID(), lines, total: lines.reduce((sum, l) => sum + l.price * l.quantity, 0), placedAt: new Date().toISOString() };
  await env.ORDER_QUEUE.send(order);
  await session.delete("cart");
  await session.flash("notice", "Thank you! Your order is placed.");
  return seeOther(`/orders/${order.id}`);
};
