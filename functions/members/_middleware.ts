import type { Handler } from "kiln";

// Guards everything under /members: the pages in functions/members/ and the
// files in public/members/ alike (kiln build adds /members/* to run_worker_first).
export const guardsStaticFiles = true;

export const onRequest: Handler = async ({ session, next }) => {
  if (await session.get("user")) return next();
  await session.flash("notice", "Please log in to see the members' area.");
  return new Response(null, { status: 303, headers: { location: "/login" } });
};
