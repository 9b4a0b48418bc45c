import { InputError, login, safeNext, urlFor, type EventContext, type Handler } from "kiln";
import { z } from "zod";
import { formToken, visitor } from "./lib/page.ts";
import { clientAddress, throttled } from "./lib/throttle.ts";
import { checkLogin, DEMO, type Env } from "./lib/users.ts";

// Guarded pages send visitors here with ?next=, where they go back after logging in.
export const access = "public";

/** What the login form posts. Any email and password may be tried: only the check says whether they are right. */
const Credentials = z.object({
  email: z.string().transform((email) => email.trim().toLowerCase()),
  password: z.string().max(1024, "That password is too long."),
});

const nextOf = (request: Request) => safeNext(new URL(request.url).searchParams.get("next"));

const form = async ({ render, session, request }: EventContext, error = "", email: string = DEMO.email, init: ResponseInit = {}) => {
  const next = nextOf(request);
  const seen = await visitor(session);
  return render(
    "account.html",
    {
      ...seen,
      csrf_token: await formToken(session, seen),
      title: "Log in",
      action: urlFor("login.ts", {}, next === "/" ? {} : { next }),
      button: "Log in",
      error: error || (next === "/" ? "" : "Please log in to see that page."),
      email,
      demo: DEMO,
    },
    init,
  );
};

export const onRequestGet: Handler = (context) => form(context);

export const onRequestPost: Handler<"login.ts", Env> = async (context) => {
  const { request, env } = context;
  let input;
  try {
    input = await context.form(Credentials);
  } catch (err) {
    if (err instanceof InputError && err.status === 422) return form(context as EventContext, "Wrong email or password.", "", { status: 422 });
    throw err;
  }
  const { email, password } = input;
  // Per account (password guessing) and per address (stuffing across accounts); an unknown account counts as a known one.
  const wait = await throttled(context as EventContext, [[`login:${email}`, 20, 900], [`login-ip:${clientAddress(request)}`, 200, 900]]);
  if (wait !== undefined) {
    return form(context as EventContext, "Too many attempts. Please wait a few minutes.", email, { status: 429, headers: { "retry-after": String(wait) } });
  }
  const account = await checkLogin(env, email, password);
  // One message for an unknown account and a wrong password: the answer tells nobody which accounts exist.
  if (!account) return form(context as EventContext, "Wrong email or password.", email, { status: 401 });
  await login(context, { id: account.email, roles: account.roles });
  await context.session.flash("notice", "Welcome back!");
  return new Response(null, { status: 303, headers: { location: nextOf(request) } });
};
