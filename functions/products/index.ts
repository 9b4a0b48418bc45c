import type { Handler } from "kiln";
import { allProducts, type CatalogEnv } from "../lib/products.ts";
import { html } from "kiln";
import { page } from "../lib/page.ts";

// The same for every visitor, so browsers revalidate it (ETag → 304) and the
// edge cache keeps it for five minutes. It never reads the session: a page
// that did would be private to its visitor, and never cached.
export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/index.ts", CatalogEnv> = async ({ env }) =>
  page(
    html`<h1>Catalog</h1>
<ul class="products">${(await allProducts(env)).map((p) => html`<li><a href="/products/${encodeURIComponent(p.id)}">${p.name}</a> — $${p.price}</li>`)}</ul>`,
    { title: "Catalog" },
  );
