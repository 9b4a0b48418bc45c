import type { Handler } from "kiln";
import { formToken, visitor } from "./lib/page.ts";
import { allProducts, type CatalogEnv } from "./lib/products.ts";

// The home page lists the whole catalog, the products added through the API too.
export const onRequestGet: Handler<"index.ts", CatalogEnv> = async ({ session, render, env }) => {
  const seen = await visitor(session);
  return render("index.html", { ...seen, products: await allProducts(env), csrf_token: await formToken(session, seen) });
};
