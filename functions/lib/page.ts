// What every page of the demo passes to templates/layout.html about the visitor.
import type { Session } from "kiln";
import { cartCount, type Cart } from "./catalog.ts";

export async function visitor(session: Session): Promise<{ user?: string; cart_count: number }> {
  return { user: await session.get<string>("user"), cart_count: cartCount(await session.get<Cart>("cart")) };
}
