// What each function of kiln's core adds to a 10-route app, gzipped: the
// bundle's minified and gzipped size, less the same with that one
// declaration (a top-level function; the body of a class's member or of a
// function inside a function) left out. An outer function's row includes its
// inner ones.
// A row is what going without that one thing would save. bench/sizes.js
// prints the table.
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { bundleEntry } from "../test/helpers/bundle.js";

const gz = async (source) => gzipSync((await esbuild.transform(source, { minify: true, format: "esm", treeShaking: false, target: "es2022" })).code, { level: 9 }).length;

/** Top-level declarations of kiln's runtime, the members of its classes and the functions inside functions: [name, first line, last line]. */
function declarations(lines) {
  const found = [];
  let module = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("// ")) module = line.slice(3);
    if (!module.startsWith("dist/runtime/") || !/^(async )?function |^var |^class /.test(line)) continue;
    // A declaration that opens a block ends where the block closes at the left margin.
    let end = i;
    if (/[{(\[]$/.test(line)) while (end + 1 < lines.length && !/^[})\]]/.test(lines[end])) end++;
    const name = line.match(/^(?:async )?(?:function\*? |var |class )([\w$]+)/)[1];
    found.push([`${module.replace("dist/runtime/", "")} ${name}`, i, end]);
    // A class's members, and the functions a function keeps inside (createHandler's answer, fetch...).
    {
      for (let j = i + 1; j < end; j++) {
        const member = lines[j].match(/= class|^class /.test(line) ? /^  (?:static |get |set |async )*(#?[\w$]+)\(.*\{$/ : /^  (?:async )?function ([\w$]+)\(.*\{$/);
        if (!member) continue;
        let k = j;
        while (k < end && !/^  [}\]]/.test(lines[k])) k++;
        // A member keeps its first and last lines (a private name must stay declared): what its body adds.
        found.push([`${module.replace("dist/runtime/", "")} ${name}.${member[1]}`, j + 1, k - 1]);
        j = k;
      }
    }
  }
  return found;
}

/**
 * @param {string} entry  the built app's entry
 * @returns {Promise<[string, number][]>} each declaration of kiln's runtime and the gzipped bytes it adds, the largest first
 */
export async function coreLedger(entry) {
  const text = await bundleEntry(entry);
  const whole = await gz(text);
  const lines = text.split("\n");
  const rows = [];
  for (const [name, from, to] of declarations(lines)) {
    const without = [...lines.slice(0, from), ...lines.slice(to + 1)].join("\n");
    rows.push([name, whole - (await gz(without))]);
  }
  return rows.sort((a, b) => b[1] - a[1]);
}
