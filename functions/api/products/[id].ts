import type { Handler } from "kiln";
import { findProduct, type CatalogEnv } from "../../lib/products.ts";

export const onRequestGet: Handler<"api/products/[id].ts", CatalogEnv> = async ({ params, env }) => {
  const product = await findProduct(env, params.id);
  return product ? Response.json(product) : Response.json({ error: `no product ${params.id}` }, { status: 404 });
};
