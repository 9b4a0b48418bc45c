import type { EventContext, Handler } from "kiln";
import { notAForm, postedForm } from "./lib/form.ts";
import { visitor } from "./lib/page.ts";
import { checkLogin, DEMO, type Env } from "./lib/users.ts";

const form = async ({ render, session }: EventContext, error = "", email: string = DEMO.email, status = 200) =>
  render(
    "account.html",
    { ...(await visitor(session)), title: "Log in", action: "/login", button: "Log in", error, email, demo: DEMO },
    { status },
  );

export const onRequestGet: Handler = (context) => form(context);

export const onRequestPost: Handler<"login.ts", Env> = async (context) => {
  const { request, session, env } = context;
  const data = await postedForm(request);
  if (!data) return notAForm();
  const email = String(data.get("email") ?? "");
  const user = await checkLogin(env, email, String(data.get("password") ?? ""));
  if (!user) return form(context as EventContext, "Wrong email or password.", email, 401);
  await session.set("user", user);
  await session.regenerate(); // a new id at login: an id planted before it is worth nothing
  await session.flash("notice", "Welcome back!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
