import type { Handler } from "kiln";
import { PRODUCTS } from "./lib/catalog.ts";
import { formToken, visitor } from "./lib/page.ts";

export const onRequestGet: Handler = async ({ session, render }) => {
  const seen = await visitor(session);
  return render("index.html", { ...seen, products: PRODUCTS, csrf_token: await formToken(session, seen) });
};
