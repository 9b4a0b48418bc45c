import type { Handler } from "kiln";
import { addProduct, allProducts, parseProduct, type CatalogEnv } from "../../lib/products.ts";

export const onRequestGet: Handler<"api/products/index.ts", CatalogEnv> = async ({ env }) => Response.json(await allProducts(env));

export const onRequestPost: Handler<"api/products/index.ts", CatalogEnv> = async ({ request, env }) => {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: "the body is not JSON" }, { status: 400 });
  }
  const product = parseProduct(body);
  if (typeof product === "string") return Response.json({ error: product }, { status: 400 });
  if (!(await addProduct(env, product))) return Response.json({ error: `product ${product.id} exists` }, { status: 409 });
  return Response.json(product, { status: 201, headers: { location: `/api/products/${product.id}` } });
};
