// Every sample in README.md and docs/ runs here: the `// functions/...` code
// blocks of a page become one app, and each `curl` line of its sh blocks is
// requested from it and must print what its `# →` line says.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { STATUS_CODES } from "node:http";
import { dirname, join, resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";
import { asCurl } from "./helpers/navigate.js";

const REPO = resolve(import.meta.dirname, "..");
const PAGES = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

interface Sample {
  command: string;
  expected: string;
}

/** TypeScript blocks that are not files of an app: each must compile. */
const snippets: { page: string; source: string }[] = [];
/** wrangler.toml samples, whole or in part: each must pass wrangler's config reader. */
const tomls: { page: string; source: string }[] = [];

function readPage(page: string): { files: Record<string, string>; samples: Sample[] } {
  const text = readFileSync(join(REPO, page), "utf8");
  const files: Record<string, string> = {};
  const samples: Sample[] = [];
  for (const [, lang, body] of text.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [first, ...rest] = body.split("\n");
    if ((lang === "ts" || lang === "js") && first.startsWith("// functions/")) files[first.slice(3)] = body;
    else if (lang === "ts" && !body.includes("from \"vitest\"")) snippets.push({ page, source: body });
    if (lang === "toml") tomls.push({ page, source: body });
    // The app's own config and variables: a toml block opening with # wrangler.toml (kiln build reads its
    // bindings), an sh block opening with # .dev.vars (its KEY="value" lines become the app's variables).
    if (lang === "toml" && first === "# wrangler.toml") files["wrangler.toml"] = body;
    if (lang === "sh" && first === "# .dev.vars") files[".dev.vars"] = rest.join("\n");
    // Static files and templates: an html block opening with <!-- public/… --> or {# templates/… #},
    // a text block opening with # public/…
    const marker = /^(?:<!-- (public\/\S+) -->|# (public\/\S+)|\{# (templates\/\S+) #\})$/.exec(first);
    if ((lang === "html" || lang === "jinja" || lang === "text") && marker) {
      files[marker[1] ?? marker[2] ?? marker[3]] = marker[3] ? body : rest.join("\n");
    }
    if (lang === "sh") {
      const lines = body.split("\n");
      lines.forEach((line, i) => {
        const next = lines[i + 1] ?? "";
        if (line.startsWith("curl ") && next.startsWith("# → ")) samples.push({ command: line, expected: next.slice(4) });
      });
    }
  }
  return { files, samples };
}

/** The words of a shell line, with single and double quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** curl's cookie files (-c to save, -b to send), one page at a time. */
type Jar = Map<string, string>;

/** What `curl` would print for the line's request. */
async function curl(app: TestApp, command: string, jars: Map<string, Jar>): Promise<string> {
  const args = words(command).slice(1);
  let include = false;
  let method = "GET";
  const headers: Record<string, string> = {};
  let url = "";
  let body: string | FormData | undefined;
  let save: Jar | undefined;
  let writeOut: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-X") method = args[++i];
    else if (a === "-d") {
      body = args[++i];
      if (method === "GET") method = "POST";
    } else if (a === "-F") {
      // A multipart field, name=value (no @file uploads here).
      const [name, ...value] = args[++i].split("=");
      if (!(body instanceof FormData)) body = new FormData();
      body.append(name, value.join("="));
      if (method === "GET") method = "POST";
    } else if (a === "-c") {
      const name = args[++i];
      if (!jars.has(name)) jars.set(name, new Map());
      save = jars.get(name);
    } else if (a === "-b") {
      const jar = jars.get(args[++i]) ?? new Map();
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    } else if (a === "-o") {
      i++; // only -o /dev/null, with -w
    } else if (a === "-w") {
      writeOut = args[++i];
    } else if (a === "-u") {
      headers.Authorization = `Basic ${Buffer.from(args[++i]).toString("base64")}`;
    } else if (a === "-H") {
      const [name, ...value] = args[++i].split(":");
      headers[name.trim()] = value.join(":").trim();
    } else if (a.startsWith("-")) include ||= a.includes("i");
    else url = a;
  }
  // As curl: -d without a Content-Type sends a urlencoded form.
  if (typeof body === "string" && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  // Through node:http, as curl sends it: Node's fetch would add Sec-Fetch-Mode, which a browser's request has and curl's has not.
  const path = url.replace(/^localhost:8787/, "");
  // wrangler dev --test-scheduled's /__scheduled is wrangler's, not the Worker's: app.fetch plays it.
  const res = path.startsWith("/__scheduled") ? await app.fetch(path) : await asCurl(app, path, { method, headers, body });
  for (const cookie of res.headers.getSetCookie()) {
    const [pair] = cookie.split(";");
    const at = pair.indexOf("=");
    save?.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const text = await res.text();
  if (writeOut) return writeOut.replace("%{http_code}", String(res.status));
  if (!include) return text;
  const head = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status]}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)];
  return `${head.join("\n")}\n\n${text}`;
}

for (const page of PAGES) {
  const { files, samples } = readPage(page);
  if (samples.length === 0) continue;
  describe(page, () => {
    let app: TestApp;
    const ready = (async () => {
      // Inside the repository, so a sample's `import … from "kiln"` resolves as it does in an app.
      mkdirSync(join(REPO, "test/.tmp"), { recursive: true });
      const root = mkdtempSync(join(REPO, "test/.tmp/docs-"));
      for (const [file, source] of Object.entries(files)) {
        mkdirSync(dirname(join(root, file)), { recursive: true });
        writeFileSync(join(root, file), source);
      }
      const vars = Object.fromEntries([...(files[".dev.vars"] ?? "").matchAll(/^(\w+)="([^"]*)"$/gm)].map((m) => [m[1], m[2]]));
      app = await startApp(root, { bindings: { SESSION_SECRET: "docs-secret-of-at-least-32-characters", ...vars } });
      return app;
    })();
    afterAll(async () => (await ready).dispose());

    const jars = new Map<string, Jar>();
    for (const { command, expected } of samples) {
      it(`${command} prints ${expected}`, async () => {
        expect(await curl(await ready, command, jars)).toContain(expected);
      });
    }
  });
}

describe("docs/testing.md", () => {
  it("shows test/examples/testing-recipe.test.ts as it is", () => {
    const doc = readFileSync(join(REPO, "docs/testing.md"), "utf8");
    const recipe = readFileSync(join(REPO, "test/examples/testing-recipe.test.ts"), "utf8");
    expect(doc).toContain("```ts\n" + recipe + "```");
  });
});

describe("TypeScript samples that are not route files", () => {
  it("compile with tsc against kiln's types", () => {
    for (const page of PAGES) readPage(page);
    expect(snippets.length).toBeGreaterThan(0);
    const dir = join(REPO, "test/.tmp/doc-snippets");
    mkdirSync(dir, { recursive: true });
    snippets.forEach((s, i) => writeFileSync(join(dir, `snippet${i}.ts`), `// from ${s.page}\n${s.source}`));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: "../../../tsconfig.json", compilerOptions: { rootDir: "." }, include: ["*.ts"], exclude: [] }),
    );
    const run = spawnSync(join(REPO, "node_modules/.bin/tsc"), ["--noEmit", "-p", dir], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});

describe("wrangler.toml samples", () => {
  it("pass wrangler's own config reader without a warning", () => {
    tomls.length = 0;
    for (const page of PAGES) readPage(page);
    expect(tomls.length).toBeGreaterThan(3);
    for (const { page, source } of tomls) {
      const dir = mkdtempSync(join(REPO, "test/.tmp/toml-"));
      mkdirSync(join(dir, "public"));
      // A fragment gets the top-level keys it leaves out, and nothing it has.
      const missing = [
        ["name", '"doc-sample"'],
        ["main", '"w.ts"'],
        ["compatibility_date", '"2026-04-01"'],
      ].filter(([key]) => !new RegExp(`^${key}\\s*=`, "m").test(source));
      const whole = missing.map(([key, value]) => `${key} = ${value}\n`).join("") + source;
      writeFileSync(join(dir, "wrangler.toml"), whole);
      const run = spawnSync("node", [join(REPO, "test/helpers/read-wrangler-config.mjs"), join(dir, "wrangler.toml")], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      });
      const said = (run.stdout + run.stderr).replace(/There is a newer version of Wrangler[^\n]*\n?/g, "").trim();
      expect({ page, said, status: run.status }).toEqual({ page, said: "", status: 0 });
    }
  }, 60_000);
});

describe("wrangler.toml samples, as apps", () => {
  const CLI = join(REPO, "dist/compiler/cli.js");
  const all = () => {
    tomls.length = 0;
    for (const page of PAGES) readPage(page);
    return [...tomls];
  };

  it("that set a [build] command list templates in watch_dir, so an edited template is served", () => {
    const builds = all().filter((t) => /^\[build\]$/m.test(t.source));
    expect(builds.length).toBeGreaterThan(1);
    for (const { page, source } of builds) expect({ page, watch: /^watch_dir = .*"templates"/m.test(source) }).toEqual({ page, watch: true });
  });

  it("deploy as written: wrangler deploy --dry-run passes on each, with its page's own route files", async () => {
    const runs = all().map(async ({ page, source }) => {
      const dir = mkdtempSync(join(REPO, "test/.tmp/deploy-"));
      const { files } = readPage(page);
      files["functions/index.ts"] ??= 'export const onRequestGet = () => new Response("home");\n';
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      mkdirSync(join(dir, "public"), { recursive: true });
      // A whole config (one with main) deploys as written; a fragment gets the rest of an app's config
      // around it. `npx kiln` is this repository's kiln here.
      const top = source.split(/^\[/m)[0];
      const missing = /^main\s*=/m.test(top) ? [] : [
        ["name", '"doc-sample"'],
        ["main", '".kiln/worker.ts"'],
        ["compatibility_date", '"2026-04-01"'],
      ].filter(([key]) => !new RegExp(`^${key}\\s*=`, "m").test(top));
      const build = /^\[build\]$/m.test(source) || /^main\s*=/m.test(top) ? "" : '\n[build]\ncommand = "npx kiln build"\n';
      const whole = missing.map(([key, value]) => `${key} = ${value}\n`).join("") + source + build;
      writeFileSync(join(dir, "wrangler.toml"), whole.replaceAll('"npx kiln build"', JSON.stringify(`node ${CLI} build`)));
      const run = await new Promise<{ status: number | null; said: string }>((done) => {
        const child = spawn(join(REPO, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", join(dir, "out")], {
          cwd: dir,
          env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
        });
        let said = "";
        child.stdout.on("data", (d) => (said += d));
        child.stderr.on("data", (d) => (said += d));
        child.on("close", (status) => done({ status, said }));
      });
      return { page, status: run.status, said: run.status === 0 ? "" : run.said };
    });
    const failed = (await Promise.all(runs)).filter((run) => run.status !== 0);
    expect(failed).toEqual([]);
  }, 240_000);
});
