import type { Handler } from "kiln";
import { html } from "kiln";
import { page } from "./lib/page.ts";
import { createUser, validEmail, type Env } from "./lib/users.ts";

const form = (error = "", email = "") =>
  html`<h1>Sign up</h1>${error ? html`<p class="error">${error}</p>` : ""}
<form method="post" action="/signup" class="login">
  <label>Email <input name="email" type="email" value="${email}" required></label>
  <label>Password (8 characters or more) <input name="password" type="password" minlength="8" required></label>
  <button>Create account</button>
</form>`;

export const onRequestGet: Handler = () => page(form(), { title: "Sign up" });

export const onRequestPost: Handler<"signup.ts", Env> = async ({ request, session, env }) => {
  const data = await request.formData();
  const email = String(data.get("email") ?? "").trim();
  const password = String(data.get("password") ?? "");
  if (!validEmail(email)) return page(form("That email address does not look right.", email), { title: "Sign up", status: 400 });
  if (password.length < 8) return page(form("Use a password of 8 characters or more.", email), { title: "Sign up", status: 400 });
  if ((await createUser(env, email, password)) === "taken") {
    return page(form("There is already an account for that email. Log in instead.", email), { title: "Sign up", status: 409 });
  }
  await session.set("user", email.toLowerCase());
  await session.regenerate();
  await session.flash("notice", "Welcome to the kiln shop!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
