import type { Handler } from "kiln";
import { PRODUCTS } from "./lib/catalog.ts";
import { visitor } from "./lib/page.ts";

export const onRequestGet: Handler = async ({ session, render }) =>
  render("index.html", { ...(await visitor(session)), products: PRODUCTS });
