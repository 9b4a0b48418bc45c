import type { Handler } from "kiln";
import { findProduct, type CatalogEnv } from "../../lib/products.ts";
import { stockOf, type StockEnv } from "../../lib/stock.ts";

/** How many of a product are left, from its Stock Durable Object. */
export const onRequestGet: Handler<"api/stock/[id].ts", CatalogEnv & StockEnv> = async ({ params, env }) => {
  const product = await findProduct(env, params.id);
  if (!product) return Response.json({ error: "no such product" }, { status: 404 });
  return Response.json({ id: product.id, left: await stockOf(env, product.id).left() });
};
