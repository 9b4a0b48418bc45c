import type { Handler } from "kiln";
import { allProducts, type CatalogEnv } from "../lib/products.ts";

// The same for every visitor, so browsers revalidate it (ETag → 304) and the
// edge cache keeps it for five minutes. It never reads the session (its
// template extends base.html, not layout.html): a page that did would be
// private to its visitor, and never cached. The page shows the header of a
// visitor who is not logged in; public/header.js then asks /header for this
// visitor's (functions/header.ts).
export const cache = { maxAge: 0, mustRevalidate: true, sMaxAge: 300, edge: true };

export const onRequestGet: Handler<"products/index.ts", CatalogEnv> = async ({ env, render }) =>
  render("products.html", { products: await allProducts(env) });
