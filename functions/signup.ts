import { InputError, login, urlFor, type EventContext, type Handler } from "kiln";
import { z } from "zod";
import { formToken, visitor } from "./lib/page.ts";
import { clientAddress, throttled } from "./lib/throttle.ts";
import { createUser, type Env } from "./lib/users.ts";

/** A new account: the rules the page states, as a schema; the first broken one is shown above the form. */
const NewAccount = z.object({
  email: z.string().trim().max(254).email("That email address does not look right."),
  password: z.string().min(8, "Use a password of 8 to 1024 characters.").max(1024, "Use a password of 8 to 1024 characters."),
});

const form = async ({ render, session }: EventContext, error = "", email = "", init: ResponseInit = {}) => {
  const seen = await visitor(session);
  return render(
    "account.html",
    { ...seen, csrf_token: await formToken(session, seen), title: "Sign up", action: urlFor("signup.ts"), button: "Create account", error, email },
    init,
  );
};

export const onRequestGet: Handler = (context) => form(context);

export const onRequestPost: Handler<"signup.ts", Env> = async (context) => {
  const { request, env } = context;
  let input;
  try {
    input = await context.form(NewAccount);
  } catch (err) {
    if (!(err instanceof InputError && err.status === 422)) throw err;
    const first = Object.values(err.errors)[0]?.[0] ?? "Please check the form.";
    return form(context as EventContext, first, String(err.values.email ?? ""), { status: 400 });
  }
  const { email, password } = input;
  const again = (error: string, status: number) => form(context as EventContext, error, email, { status });
  // "That email has an account" tells whoever asks: sign-ups per address keep that from becoming a list.
  const wait = await throttled(context as EventContext, [[`signup-ip:${clientAddress(request)}`, 20, 3600]]);
  if (wait !== undefined) return form(context as EventContext, "Too many sign-ups from here. Please try later.", email, { status: 429, headers: { "retry-after": String(wait) } });
  if ((await createUser(env, email, password)) === "taken") return again("There is already an account for that email. Log in instead.", 409);
  await login(context, { id: email.toLowerCase(), roles: [] });
  await context.session.flash("notice", "Welcome to the kiln shop!");
  return new Response(null, { status: 303, headers: { location: "/" } });
};
