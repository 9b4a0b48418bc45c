import type { Handler } from "kiln";
import { visitor } from "../lib/page.ts";
import { allProducts, type CatalogEnv } from "../lib/products.ts";
import { allAccounts, type Env } from "../lib/users.ts";

export const onRequestGet: Handler<"admin/index.ts", Env & CatalogEnv> = async ({ env, session, render }) =>
  render("admin.html", { ...(await visitor(session)), accounts: await allAccounts(env), products: await allProducts(env) });
