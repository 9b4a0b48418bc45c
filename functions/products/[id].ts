import type { Handler } from "kiln";
import { findProduct, type CatalogEnv } from "../lib/products.ts";

export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/[id].ts", CatalogEnv> = async ({ params, env, render }) => {
  const product = await findProduct(env, params.id);
  return render("product.html", { product }, { status: product ? 200 : 404 });
};
