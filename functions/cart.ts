import { InputError, type EventContext, type Handler } from "kiln";
import { z } from "zod";
import type { Cart } from "./lib/catalog.ts";
import { findProduct, PRODUCT_ID, type CatalogEnv } from "./lib/products.ts";
import { formToken, visitor } from "./lib/page.ts";

/** What a cart form posts: a product, and a quantity (absent: add one more). */
const CartLine = z.object({
  product: z.string().regex(PRODUCT_ID, "No such product."),
  quantity: z.string().regex(/^\d{1,2}$/, "Enter a whole number from 0 to 99.").transform(Number).optional(),
});

/** The cart, with the errors of a rejected post beside the line it was for. */
async function cartPage({ session, env, render }: EventContext<CatalogEnv>, errors: Record<string, string[]> = {}, values: Record<string, unknown> = {}) {
  const cart = (await session.get<Cart>("cart")) ?? {};
  const lines = await Promise.all(
    Object.entries(cart).map(async ([id, quantity]) => ({ id, quantity, name: (await findProduct(env, id))?.name ?? id })),
  );
  const seen = await visitor(session);
  return render("cart.html", { ...seen, lines, errors, values, csrf_token: await formToken(session, seen) }, { status: Object.keys(errors).length ? 422 : 200 });
}

export const onRequestGet: Handler<"cart.ts", CatalogEnv> = (context) => cartPage(context);

/** Adds one of a product, or sets its quantity (0 removes it). */
export const onRequestPost: Handler<"cart.ts", CatalogEnv> = async (context) => {
  const { session, env, form } = context;
  let line;
  try {
    line = await form(CartLine);
  } catch (err) {
    if (err instanceof InputError && err.status === 422) return cartPage(context, err.errors, err.values);
    throw err;
  }
  const product = await findProduct(env, line.product);
  if (!product) return cartPage(context, { product: ["No such product."] }, line);
  // Two tabs adding at once both count: the second waits for the first.
  await session.lock();
  const cart = (await session.get<Cart>("cart")) ?? {};
  const quantity = line.quantity ?? Math.min((cart[product.id] ?? 0) + 1, 99);
  if (quantity === 0) delete cart[product.id];
  else cart[product.id] = quantity;
  await session.set("cart", cart);
  await session.flash("notice", quantity === 0 ? `Removed ${product.name}` : `${product.name}: ${quantity} in your cart`);
  return new Response(null, { status: 303, headers: { location: "/cart" } });
};
