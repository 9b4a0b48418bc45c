import type { Handler } from "kiln";
import { findProduct, type CatalogEnv } from "../lib/products.ts";
import { escapeHtml, page } from "../lib/page.ts";

export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/[id].ts", CatalogEnv> = async ({ params, env }) => {
  const product = await findProduct(env, params.id);
  if (!product) return page(`<h1>No such product</h1><p><a href="/products">See the catalog</a>.</p>`, { title: "Not found", status: 404 });
  return page(
    `<h1>${escapeHtml(product.name)}</h1>
<p>$${product.price}</p>
<form method="post" action="/cart"><input type="hidden" name="product" value="${escapeHtml(product.id)}"><button>Add to cart</button></form>`,
    { title: product.name },
  );
};
