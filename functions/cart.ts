import type { Handler } from "kiln";
import { cartCount, type Cart } from "./lib/catalog.ts";
import { findProduct, type CatalogEnv } from "./lib/products.ts";
import { html } from "kiln";
import { page } from "./lib/page.ts";

export const onRequestGet: Handler<"cart.ts", CatalogEnv> = async ({ session, env }) => {
  const cart = (await session.get<Cart>("cart")) ?? {};
  const products = await Promise.all(Object.keys(cart).map((id) => findProduct(env, id)));
  const lines = Object.entries(cart).map(([id, quantity], i) => {
    const product = products[i];
    return html`<li>${product?.name ?? id} × ${quantity}
      <form method="post" action="/cart"><input type="hidden" name="product" value="${id}">
      <input type="number" name="quantity" min="0" value="${quantity}" aria-label="quantity"><button>Update</button></form></li>`;
  });
  return page(html`<h1>Your cart</h1>${lines.length ? html`<ul class="cart">${lines}</ul>` : html`<p>Your cart is empty.</p>`}`, {
    title: "Cart",
    user: await session.get<string>("user"),
    cartCount: cartCount(cart),
    notice: await session.get("notice"),
  });
};

/** Adds one of a product, or sets its quantity (0 removes it). */
export const onRequestPost: Handler<"cart.ts", CatalogEnv> = async ({ request, session, env }) => {
  const form = await request.formData();
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
