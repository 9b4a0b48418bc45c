// Typed links: a link to a route that does not exist is a `kiln build` error
// and, with .kiln/routes.d.ts in the app's tsconfig, a tsc error; params are
// typed from the file's name, as Handler<"users/[id].ts"> types them.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");
const KILN = join(REPO, "dist/compiler/cli.js");

function app(files: Record<string, string>): string {
  mkdirSync(join(REPO, "test/.tmp"), { recursive: true });
  // Inside the repository, so `import … from "kiln"` resolves as it does in an app.
  const root = mkdtempSync(join(REPO, "test/.tmp/links-"));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

const USER = `import type { Handler } from "kiln";
export const onRequestGet: Handler<"users/[id].ts"> = ({ params }) => new Response(params.id);
`;

describe("typed links", () => {
  it("are type-checked against the route table", () => {
    const root = app({
      "tsconfig.json": JSON.stringify({
        compilerOptions: { target: "ES2022", module: "ES2022", moduleResolution: "bundler", strict: true, noEmit: true, lib: ["ES2022", "DOM"] },
        include: ["functions", ".kiln/routes.d.ts"],
      }),
      "functions/users/[id].ts": USER,
      "functions/files/[[path]].ts": `export const onRequestGet = () => new Response("files");\n`,
      "functions/index.ts": `import { urlFor } from "kiln";
export const onRequestGet = () => {
  const ok: string[] = [urlFor("users/[id].ts", { id: "42" }), urlFor("files/[[path]].ts", { path: ["a", "b"] }), urlFor("index.ts"), urlFor("/users/:id", { id: "1" })];
  // A name the build cannot read from the source: tsc still catches it.
  const misspelt = "user/[id].ts";
  // @ts-expect-error: no such route
  urlFor(misspelt, { id: "42" });
  // @ts-expect-error: the route takes an id
  urlFor("users/[id].ts", {});
  // @ts-expect-error: a catch-all takes an array
  urlFor("files/[[path]].ts", { path: "a" });
  return Response.json(ok);
};
`,
    });
    const built = spawnSync("node", [KILN, "build"], { cwd: root, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    const tsc = spawnSync(join(REPO, "node_modules/.bin/tsc"), ["-p", root], { encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 60_000);

  it("to a missing route fail kiln build, naming the file and line, in functions/ and in templates/", () => {
    const root = app({
      "functions/users/[id].ts": USER,
      "functions/index.ts": `import { urlFor } from "kiln";\n\nexport const onRequestGet = () => new Response(urlFor("user/[id].ts", { id: "1" }));\n`,
      "templates/page.html": `<p>\n<a href="{{ url_for('users/[name].ts', name=1) }}">x</a>\n<a href="{{ url_for("users/[id].ts", id=1) }}">ok</a>\n`,
    });
    const built = spawnSync("node", [KILN, "build"], { cwd: root, encoding: "utf8" });
    expect(built.status).not.toBe(0);
    expect(built.stderr).toContain(`functions/index.ts:3: urlFor("user/[id].ts"): no route file functions/user/[id].ts`);
    expect(built.stderr).toContain(`templates/page.html:2: url_for("users/[name].ts"): no route file functions/users/[name].ts`);
    expect(built.stderr).not.toContain(`"users/[id].ts"`);
  }, 60_000);
});
