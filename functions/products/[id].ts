import type { Handler } from "kiln";
import { pictureKey, type PicturesEnv } from "../lib/pictures.ts";
import { findProduct, type CatalogEnv } from "../lib/products.ts";

export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/[id].ts", CatalogEnv & PicturesEnv> = async ({ params, env, render }) => {
  const product = await findProduct(env, params.id);
  const has_picture = !!product && !!(await env.PICTURES.head(pictureKey(product.id)));
  return render("product.html", { product, has_picture }, { status: product ? 200 : 404 });
};
