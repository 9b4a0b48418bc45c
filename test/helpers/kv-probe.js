// Test instrumentation around the app's real KV namespace (SESSIONS). It counts
// the reads and writes each request makes (x-kv-reads, x-kv-writes; a delete
// counts as a write) and, when a request says so, makes calls fail or wait the
// way KV does under load, then passes everything else through:
//
//   x-kv-fail: RULE[, RULE…]   RULE is OP[-once][@PREFIX], OP one of get, put, delete.
//     A get throws as a failed read does ("KV GET failed: 503 Service Unavailable"),
//     a put or delete as a write over KV's rate limit does ("… 429 Too Many Requests").
//     OP fails every such call of the request, OP-once only the first; @PREFIX limits
//     the rule to keys that start with PREFIX (put@revoked: fails only those puts).
//   x-kv-slow-get / x-kv-slow-put / x-kv-slow-delete: MS
//     each such call waits MS milliseconds before it reaches KV, to stage races.
import app from "./worker.ts";

const REASON = { get: "503 Service Unavailable", put: "429 Too Many Requests", delete: "429 Too Many Requests" };

function rules(header) {
  return (header ?? "")
    .split(",")
    .map((rule) => rule.trim())
    .filter(Boolean)
    .map((rule) => {
      const match = /^(get|put|delete)(-once)?(?:@(.+))?$/.exec(rule);
      if (!match) throw new Error(`kv-probe: x-kv-fail rule ${JSON.stringify(rule)} is not OP[-once][@PREFIX]`);
      return { op: match[1], left: match[2] ? 1 : Infinity, prefix: match[3] ?? "" };
    });
}

export default {
  async fetch(request, env, ctx) {
    const counts = { reads: 0, writes: 0 };
    const failures = rules(request.headers.get("x-kv-fail"));
    const kv = env.SESSIONS;
    async function call(op, key, run) {
      const wait = Number(request.headers.get(`x-kv-slow-${op}`) ?? 0);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const rule = failures.find((r) => r.op === op && r.left > 0 && String(key).startsWith(r.prefix));
      if (rule) {
        rule.left--;
        throw new Error(`KV ${op.toUpperCase()} failed: ${REASON[op]}`);
      }
      return run();
    }
    const probe = {
      get(...args) {
        counts.reads++;
        return call("get", args[0], () => kv.get(...args));
      },
      put(...args) {
        counts.writes++;
        return call("put", args[0], () => kv.put(...args));
      },
      delete(...args) {
        counts.writes++;
        return call("delete", args[0], () => kv.delete(...args));
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
