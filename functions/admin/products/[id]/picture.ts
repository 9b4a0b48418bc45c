// The admin uploads a product's picture (functions/admin/_middleware.ts lets only admins in).
import { InputError, purge, type EventContext, type Handler } from "kiln";
import { z } from "zod";
import { formToken, visitor } from "../../../lib/page.ts";
import { isPicture, pictureKey, PICTURE_TYPES, type PicturesEnv } from "../../../lib/pictures.ts";
import { findProduct, type CatalogEnv } from "../../../lib/products.ts";

type Env = CatalogEnv & PicturesEnv;

const MAX_PICTURE = 2_000_000;
// The picture and the form around it.
export const bodyLimit = MAX_PICTURE + 100_000;

const Upload = z.object({
  picture: z.file("Choose a picture.").mime(PICTURE_TYPES, "A PNG, JPEG, GIF or WebP picture, please."),
});

async function page(context: EventContext<Env, "admin/products/[id]/picture.ts">, errors: Record<string, string[]> = {}, status = 200) {
  const { params, env, session, render } = context;
  const product = await findProduct(env, params.id);
  const seen = await visitor(session);
  if (!product) return render("picture.html", { ...seen, product }, { status: 404 });
  const has_picture = !!(await env.PICTURES.head(pictureKey(product.id)));
  return render("picture.html", { ...seen, product, has_picture, errors, max_mb: MAX_PICTURE / 1e6, csrf_token: await formToken(session, seen) }, { status });
}

export const onRequestGet: Handler<"admin/products/[id]/picture.ts", Env> = (context) => page(context);

export const onRequestPost: Handler<"admin/products/[id]/picture.ts", Env> = async (context) => {
  const { params, env, form, request } = context;
  const product = await findProduct(env, params.id);
  if (!product) return page(context);
  let picture: File;
  try {
    ({ picture } = await form(Upload, { maxFileSize: MAX_PICTURE }));
  } catch (err) {
    if (!(err instanceof InputError) || (err.status !== 422 && err.status !== 413)) throw err;
    const errors = err.status === 413 ? { picture: [`The picture is over ${MAX_PICTURE / 1e6} MB.`] } : err.errors;
    return page(context, errors, err.status);
  }
  if (!(await isPicture(picture))) return page(context, { picture: [`That file is not the ${picture.type} picture its name says.`] }, 422);
  // The File goes to R2 as it is: no copy into an ArrayBuffer first.
  await env.PICTURES.put(pictureKey(product.id), picture, { httpMetadata: { contentType: picture.type } });
  await purge(new URL(`/products/${product.id}`, request.url)); // the product page is in the edge cache
  return new Response(null, { status: 303, headers: { location: `/products/${product.id}` } });
};
