// Everything under /members needs a login: the pages in functions/members/
// and the files in public/members/ alike (kiln build adds /members/* to
// run_worker_first for guardsStaticFiles).
export const access = "user";
export const guardsStaticFiles = true;
