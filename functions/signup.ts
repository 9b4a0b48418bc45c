import type { EventContext, Handler } from "kiln";
import { notAForm, postedForm } from "./lib/form.ts";
import { visitor } from "./lib/page.ts";
import { createUser, validEmail, type Env } from "./lib/users.ts";

const form = async ({ render, session }: EventContext, error = "", email = "", status = 200) =>
  render(
    "account.html",
    { ...(await visitor(session)), title: "Sign up", action: "/signup", button: "Create account", error, email },
    { status },
  );

export const onRequestGet: Handler = (context) => form(context);

export const onRequestPost: Handler<"signup.ts", Env> = async (context) => {
  const { request, session, env } = context;
  const data = await postedForm(request);
  if (!data) return notAForm();
  const email = String(data.get("email") ?? "").trim();
  const password = String(data.get("password") ?? "");
  const again = (error: string, status: number) => form(context as EventContext, error, email, status);
  if (!validEmail(email)) return again("That email address does not look right.", 400);
  if (password.length < 8) return again("Use a password of 8 characters or more.", 400);
  if ((await createUser(env, email, password)) === "taken") return again("There is already an account for that email. Log in instead.", 409);
  await session.set("user", email.toLowerCase());
  await session.regenerate();
  await session.flash("notice", "Welcome to the kiln shop!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
