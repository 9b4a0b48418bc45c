import type { Handler } from "kiln";
import { html } from "kiln";
import { page } from "./lib/page.ts";
import { checkLogin, DEMO, type Env } from "./lib/users.ts";

const form = (error = "", email = DEMO.email) =>
  html`<h1>Log in</h1>${error ? html`<p class="error">${error}</p>` : ""}
<form method="post" action="/login" class="login">
  <label>Email <input name="email" type="email" value="${email}" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button>Log in</button>
</form>
<p>No account? <a href="/signup">Sign up</a>. Or use the demo account: <code>${DEMO.email}</code>, password <code>${DEMO.password}</code>.</p>`;

export const onRequestGet: Handler = async ({ session }) => page(form(), { title: "Log in", notice: await session.get("notice") });

export const onRequestPost: Handler<"login.ts", Env> = async ({ request, session, env }) => {
  const data = await request.formData();
  const email = String(data.get("email") ?? "");
  const user = await checkLogin(env, email, String(data.get("password") ?? ""));
  if (!user) return page(form("Wrong email or password.", email), { title: "Log in", status: 401 });
  await session.set("user", user);
  await session.regenerate(); // a new id at login: an id planted before it is worth nothing
  await session.flash("notice", "Welcome back!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
