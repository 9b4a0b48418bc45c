// `npm run fuzz`: bundles test/fuzz/main.ts for Node with esbuild (tsx is
// not a dependency) and runs it. Each file's import.meta.url and dirname are
// pinned to the source file, because the helpers find files next to themselves.
import * as esbuild from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const here = import.meta.dirname;
const out = resolve(here, "../.tmp/fuzz-main.mjs");
mkdirSync(dirname(out), { recursive: true });

const pinImportMeta = {
  name: "pin-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      loader: "ts",
      contents: readFileSync(args.path, "utf8")
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
    }));
  },
};

await esbuild.build({
  entryPoints: [join(here, "main.ts")],
  outfile: out,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [pinImportMeta],
  logLevel: "warning",
});
await import(pathToFileURL(out).href);
