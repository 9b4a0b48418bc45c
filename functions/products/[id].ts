import type { Handler } from "kiln";
import { findProduct, type CatalogEnv } from "../lib/products.ts";
import { html } from "kiln";
import { page } from "../lib/page.ts";

export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/[id].ts", CatalogEnv> = async ({ params, env }) => {
  const product = await findProduct(env, params.id);
  if (!product) return page(html`<h1>No such product</h1><p><a href="/products">See the catalog</a>.</p>`, { title: "Not found", status: 404 });
  return page(
    html`<h1>${product.name}</h1>
<p>$${product.price}</p>
<form method="post" action="/cart"><input type="hidden" name="product" value="${product.id}"><button>Add to cart</button></form>`,
    { title: product.name },
  );
};
