// The catalog: the seed products, plus those added through the JSON API (KV binding CATALOG).
import { PRODUCTS, type Product } from "./catalog.ts";

export interface CatalogEnv {
  CATALOG: {
    get(key: string, type: "json"): Promise<unknown>;
    put(key: string, value: string): Promise<void>;
    list(options: { prefix: string }): Promise<{ keys: { name: string }[] }>;
  };
}

export async function allProducts(env: CatalogEnv): Promise<Product[]> {
  const { keys } = await env.CATALOG.list({ prefix: "product:" });
  const added = await Promise.all(keys.map((k) => env.CATALOG.get(k.name, "json") as Promise<Product>));
  return [...PRODUCTS, ...added.filter(Boolean)];
}

/** What a product id may be: it also keeps every KV key under KV's 512-byte limit. */
export const PRODUCT_ID = /^[a-z0-9-]{1,40}$/;

export async function findProduct(env: CatalogEnv, id: string): Promise<Product | undefined> {
  // An id that no product can have is not looked up: a key too long for KV would make the lookup throw.
  if (!PRODUCT_ID.test(id)) return undefined;
  return PRODUCTS.find((p) => p.id === id) ?? ((await env.CATALOG.get(`product:${id}`, "json")) as Product | null) ?? undefined;
}

export async function addProduct(env: CatalogEnv, product: Product): Promise<boolean> {
  if (await findProduct(env, product.id)) return false;
  await env.CATALOG.put(`product:${product.id}`, JSON.stringify(product));
  return true;
}
