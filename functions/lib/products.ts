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
const PRODUCT_ID = /^[a-z0-9-]{1,40}$/;

export async function findProduct(env: CatalogEnv, id: string): Promise<Product | undefined> {
  // An id that no product can have is not looked up: a key too long for KV would make the lookup throw.
  if (!PRODUCT_ID.test(id)) return undefined;
  return PRODUCTS.find((p) => p.id === id) ?? ((await env.CATALOG.get(`product:${id}`, "json")) as Product | null) ?? undefined;
}

/** A new product from a request body, or the reason it is not one. */
export function parseProduct(body: unknown): Product | string {
  if (!body || typeof body !== "object") return "the body must be a JSON object";
  const { id, name, price } = body as Record<string, unknown>;
  if (typeof id !== "string" || !PRODUCT_ID.test(id)) return "id must be 1 to 40 lowercase letters, digits or dashes";
  if (typeof name !== "string" || !name.trim() || name.length > 100) return "name must be a non-empty string of at most 100 characters";
  if (typeof price !== "number" || !Number.isFinite(price) || price <= 0) return "price must be a positive number";
  return { id, name: name.trim(), price };
}

export async function addProduct(env: CatalogEnv, product: Product): Promise<boolean> {
  if (await findProduct(env, product.id)) return false;
  await env.CATALOG.put(`product:${product.id}`, JSON.stringify(product));
  return true;
}
