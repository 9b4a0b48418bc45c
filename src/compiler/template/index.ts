// templates/ → the compiled templates the Worker entry carries, or the
// problems, each with its file and line.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { filters, tests } from "../../runtime/template.js";
import { walkFiles } from "../walk.js";
import { compileTemplate, type CompiledTemplate, type Reference } from "./compile.js";
import { TemplateSyntaxError } from "./lexer.js";

export interface TemplateSet {
  /** JavaScript for `{ "name": { parent, blocks, body, stream? }, ... }` */
  source: string;
  names: string[];
  /** Templates that read `flashes` (themselves or through what they extend, include or import). */
  flashes: string[];
  /** Compiled for renderStream too: the source calls template-stream.ts's `rs`. */
  streams: boolean;
}

const FILTERS = new Set(Object.keys(filters));
const TESTS = new Set(Object.keys(tests));

/** `stream`: the app calls renderStream, so each template carries its generators too. */
export function compileTemplates(dir: string, stream = false, prefix = "templates/"): { set?: TemplateSet; problems: string[] } {
  // Dotfiles and dot folders (.DS_Store, an editor's .swp) are not templates.
  const files = walkFiles(dir)?.filter((f) => !f.split("/").some((p) => p.startsWith(".")));
  if (!files) return { problems: [] };
  const problems: string[] = [];
  const compiled: CompiledTemplate[] = [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    try {
      compiled.push(compileTemplate(file, text, FILTERS, TESTS, stream));
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      problems.push(`${prefix}${file}:${err.line}: ${err.message}`);
    }
  }
  const names = new Set(files);
  for (const t of compiled) {
    for (const ref of t.references) {
      if (!names.has(ref.name)) problems.push(`${prefix}${t.name}:${ref.line}: no template "${ref.name}" in ${prefix}`);
    }
  }
  problems.push(...cycles(compiled, prefix));
  if (problems.length) return { problems };
  const uses = (name: string, seen = new Set<string>()): boolean => {
    if (seen.has(name)) return false;
    seen.add(name);
    const t = compiled.find((c) => c.name === name);
    return !!t && (t.readsFlashes || t.references.some((r) => uses(r.name, seen)));
  };
  const source = `{\n${compiled.map((t) => t.source).join("\n")}\n}`;
  return { set: { source, names: [...names], flashes: [...names].filter((n) => uses(n)), streams: stream }, problems: [] };
}

/**
 * Templates that extend, include or import each other in a cycle render until
 * the isolate runs out of memory. Names are static and nothing counts at run
 * time, so every cycle is an error, even one that an {% if %} would stop.
 * A depth-first walk reports each cycle once, at the reference that opens it.
 */
function cycles(compiled: CompiledTemplate[], prefix: string): string[] {
  const references = new Map(compiled.map((t) => [t.name, t.references]));
  const done = new Set<string>();
  const path: string[] = [];
  /** via[i] leads from path[i] to path[i + 1] */
  const via: Reference[] = [];
  const found = new Set<string>();
  const visit = (name: string): void => {
    const at = path.indexOf(name);
    if (at >= 0) {
      const { line, kind } = via[at];
      const what = at === path.length - 1 ? `a template ${kind} itself` : "templates include each other in a cycle";
      found.add(`${prefix}${name}:${line}: ${[...path.slice(at), name].join(" → ")}: ${what}`);
      return;
    }
    if (done.has(name)) return;
    path.push(name);
    for (const ref of references.get(name) ?? []) {
      via[path.length - 1] = ref;
      visit(ref.name);
    }
    path.pop();
    done.add(name);
  };
  for (const t of compiled) visit(t.name);
  return [...found];
}
