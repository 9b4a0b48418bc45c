import { purge, type Handler } from "kiln";
import * as v from "valibot";
import { addProduct, allProducts, PRODUCT_ID, type CatalogEnv } from "../../lib/products.ts";

// A new product, as the API takes it. A body that is not JSON gets 400 or 415
// from kiln, one that breaks these rules 422 with the errors per field.
const NewProduct = v.object({
  id: v.pipe(v.string(), v.regex(PRODUCT_ID, "id must be 1 to 40 lowercase letters, digits or dashes")),
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("name must not be empty"), v.maxLength(100, "name must be 100 characters at most")),
  price: v.pipe(v.number("price must be a number"), v.finite("price must be a number"), v.gtValue(0, "price must be positive")),
});

// Anyone may read the catalog; adding to it takes the admin role (a 401 for a client that is not logged in, 403 without the role).
export const access = { GET: "public", POST: { role: "admin" } };

export const onRequestGet: Handler<"api/products/index.ts", CatalogEnv> = async ({ env }) => Response.json(await allProducts(env));

export const onRequestPost: Handler<"api/products/index.ts", CatalogEnv> = async ({ json, env, request }) => {
  const product = await json(NewProduct);
  if (!(await addProduct(env, product))) return Response.json({ error: `product ${product.id} exists` }, { status: 409 });
  // The catalog page is kept in the edge cache: this data centre's copy goes now, so the new product shows at once here.
  await purge(new URL("/products", request.url));
  return Response.json(product, { status: 201, headers: { location: `/api/products/${product.id}` } });
};
