import type { Handler } from "kiln";
import { DEMO_USER, verifyPassword } from "./lib/password.ts";
import { page } from "./lib/page.ts";

const form = (error = "") =>
  `<h1>Log in</h1>${error ? `<p class="error">${error}</p>` : ""}
<form method="post" action="/login" class="login">
  <label>Email <input name="email" type="email" value="${DEMO_USER.email}" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button>Log in</button>
</form>
<p>The demo account is <code>${DEMO_USER.email}</code>, password <code>kiln-demo-password</code>.</p>`;

export const onRequestGet: Handler = () => page(form(), { title: "Log in" });

export const onRequestPost: Handler = async ({ request, session }) => {
  const data = await request.formData();
  const email = String(data.get("email") ?? "");
  const ok = email === DEMO_USER.email && (await verifyPassword(String(data.get("password") ?? ""), DEMO_USER.salt, DEMO_USER.hash));
  if (!ok) return page(form("Wrong email or password."), { title: "Log in", status: 401 });
  await session.set("user", email);
  await session.regenerate(); // a new id at login: an id planted before it is worth nothing
  await session.flash("notice", "Welcome back!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
