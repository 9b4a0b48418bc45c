import type { Handler } from "kiln";
import type { Cart } from "./lib/catalog.ts";
import { findProduct, type CatalogEnv } from "./lib/products.ts";
import { notAForm, postedForm } from "./lib/form.ts";
import { visitor } from "./lib/page.ts";

export const onRequestGet: Handler<"cart.ts", CatalogEnv> = async ({ session, env, render }) => {
  const cart = (await session.get<Cart>("cart")) ?? {};
  const lines = await Promise.all(
    Object.entries(cart).map(async ([id, quantity]) => ({ id, quantity, name: (await findProduct(env, id))?.name ?? id })),
  );
  return render("cart.html", { ...(await visitor(session)), lines });
};

/** Adds one of a product, or sets its quantity (0 removes it). */
export const onRequestPost: Handler<"cart.ts", CatalogEnv> = async ({ request, session, env }) => {
  const form = await postedForm(request);
  if (!form) return notAForm();
  const id = String(form.get("product") ?? "");
  const product = await findProduct(env, id);
  if (!product) return new Response("No such product", { status: 400 });
  const cart = (await session.get<Cart>("cart")) ?? {};
  const quantity = form.has("quantity") ? Number(form.get("quantity")) : (cart[id] ?? 0) + 1;
  if (!Number.isInteger(quantity) || quantity < 0 || quantity > 99) return new Response("Bad quantity", { status: 400 });
  if (quantity === 0) delete cart[id];
  else cart[id] = quantity;
  await session.set("cart", cart);
  await session.flash("notice", quantity === 0 ? `Removed ${product.name}` : `${product.name}: ${quantity} in your cart`);
  return new Response(null, { status: 303, headers: { location: "/cart" } });
};
