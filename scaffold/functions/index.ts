import type { Handler } from "kiln";

// The session lives in KV (SESSIONS); the visitor's cookie holds only its signed id.
export const onRequestGet: Handler = async ({ session, render }) => {
  const visits = ((await session.get<number>("visits")) ?? 0) + 1;
  await session.set("visits", visits);
  return render("index.html", { visits });
};
