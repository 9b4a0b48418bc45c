import type { Handler } from "kiln";
import { PRODUCTS } from "../lib/catalog.ts";
import { escapeHtml, page } from "../lib/page.ts";

// The same for every visitor, so browsers revalidate it (ETag → 304) and the
// edge cache keeps it for five minutes. It never reads the session: a page
// that did would be private to its visitor, and never cached.
export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler = () =>
  page(
    `<h1>Catalog</h1>
<ul class="products">${PRODUCTS.map((p) => `<li><a href="/products/${escapeHtml(p.id)}">${escapeHtml(p.name)}</a> — $${p.price}</li>`).join("\n")}</ul>`,
    { title: "Catalog" },
  );
