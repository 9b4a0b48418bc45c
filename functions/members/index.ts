import type { Handler } from "kiln";
import { cartCount, type Cart } from "../lib/catalog.ts";
import { html } from "kiln";
import { page } from "../lib/page.ts";

export const onRequestGet: Handler = async ({ session }) =>
  page(
    html`<h1>Members</h1>
<p>Thank you for being a member. Your download: <a href="/members/glaze-recipes.txt">glaze recipes</a>.</p>`,
    { title: "Members", user: await session.get<string>("user"), cartCount: cartCount(await session.get<Cart>("cart")) },
  );
