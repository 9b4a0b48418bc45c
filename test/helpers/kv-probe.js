// Test instrumentation around the app's real KV namespace (SESSIONS): it
// counts the reads and writes each request makes (x-kv-reads, x-kv-writes)
// and, when a request says so (x-kv-fail: get | put | put-once), makes those
// calls fail the way KV does under load, then passes everything else through.
import app from "./worker.ts";

export default {
  async fetch(request, env, ctx) {
    const counts = { reads: 0, writes: 0 };
    const fail = request.headers.get("x-kv-fail") ?? "";
    let putFailures = fail === "put" ? 2 : fail === "put-once" ? 1 : 0;
    const kv = env.SESSIONS;
    const probe = {
      get(...args) {
        counts.reads++;
        if (fail === "get") return Promise.reject(new Error("KV GET failed: 503"));
        return kv.get(...args);
      },
      put(...args) {
        counts.writes++;
        if (putFailures-- > 0) return Promise.reject(new Error("KV PUT failed: 429 Too Many Requests"));
        return kv.put(...args);
      },
      delete(...args) {
        counts.writes++;
        return kv.delete(...args);
      },
      list: (...args) => kv.list(...args),
    };
    const response = await app.fetch(request, { ...env, SESSIONS: probe }, ctx);
    const out = new Response(response.body, response);
    out.headers.set("x-kv-reads", String(counts.reads));
    out.headers.set("x-kv-writes", String(counts.writes));
    return out;
  },
};
