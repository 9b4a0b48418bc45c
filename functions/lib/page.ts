// What every page of the demo passes about the visitor, for the header (templates/header.html, through layout.html or /header).
import { currentUser, type Session } from "kiln";
import { cartCount, type Cart } from "./catalog.ts";

/** The logged-in user's email (kiln's login keeps it as the user's id), the cart's size, and whether the admin link shows. */
export async function visitor(session: Session): Promise<{ user?: string; admin?: boolean; cart_count: number }> {
  const user = await currentUser({ session });
  return { user: user && String(user.id), admin: user?.roles.includes("admin"), cart_count: cartCount(await session.get<Cart>("cart")) };
}

/**
 * The CSRF token for a page's forms (context.form() checks it for browsers
 * that send no Sec-Fetch-Site), for a visitor who has a session: asking for
 * one would start a session, and a visitor who only looks gets no cookie.
 */
export async function formToken(session: Session, seen: { user?: string; cart_count: number }): Promise<string | undefined> {
  return seen.user || seen.cart_count ? session.csrfToken() : undefined;
}
