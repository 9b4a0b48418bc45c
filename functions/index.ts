import type { Handler } from "kiln";
import { cartCount, PRODUCTS, type Cart } from "./lib/catalog.ts";
import { html } from "kiln";
import { page } from "./lib/page.ts";

export const onRequestGet: Handler = async ({ session }) => {
  const rows = PRODUCTS.map(
    (p) => html`<li><strong>${p.name}</strong> — $${p.price}
      <form method="post" action="/cart"><input type="hidden" name="product" value="${p.id}"><button>Add to cart</button></form></li>`,
  );
  return page(
    html`<h1>Handmade ceramics</h1>
<p>This page is <code>functions/index.ts</code>; your cart lives in a kiln session.</p>
<ul class="products">${rows}</ul>
<p><a href="/hello/world">/hello/world</a> · <a href="/api/time">/api/time</a> · <a href="/robots.txt">/robots.txt</a></p>`,
    {
      title: "Shop",
      user: await session.get<string>("user"),
      cartCount: cartCount(await session.get<Cart>("cart")),
      notice: await session.get("notice"),
    },
  );
};
