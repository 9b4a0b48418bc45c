import type { Handler } from "kiln";
import { pictureKey, type PicturesEnv } from "../../lib/pictures.ts";
import { findProduct, type CatalogEnv } from "../../lib/products.ts";

export const onRequestGet: Handler<"products/[id]/picture.ts", CatalogEnv & PicturesEnv> = async ({ params, env }) => {
  const product = await findProduct(env, params.id);
  const object = product && (await env.PICTURES.get(pictureKey(product.id)));
  if (!object) return new Response("No picture\n", { status: 404 });
  return new Response(object.body, {
    headers: {
      "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
      etag: object.httpEtag,
      "cache-control": "public, max-age=60",
      // Served as the picture it was checked to be, never sniffed into something else.
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
    },
  });
};
