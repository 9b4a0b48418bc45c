// One template through the pipeline: lexer.ts (pieces) → parser.ts (syntax
// tree, nodes.ts) → generate.ts (JavaScript). Nothing here runs in the
// Worker: the Worker gets the functions, never a compiler (Workers forbid eval).
import { generateTemplate } from "./generate.js";
import { allNodes, readsName, type Node } from "./nodes.js";
import { parseTemplate } from "./parser.js";

export interface CompiledTemplate {
  name: string;
  /** `"name": { parent, blocks, body },`, an entry of the templates object */
  source: string;
  /** Templates named by extends / include / import, with the line that names them, in document order. */
  references: Reference[];
  /** Whether the template itself reads `flashes` (the session's flash messages). */
  readsFlashes: boolean;
}

export interface Reference {
  name: string;
  line: number;
  kind: "extends" | "includes" | "imports";
}

const REFERENCE_KINDS: Partial<Record<Node["type"], Reference["kind"]>> = { extends: "extends", include: "includes", import: "imports", from: "imports" };

/** Throws a TemplateSyntaxError (lexer.ts) for a mistake in the template. `stream`: its generators for renderStream too. */
export function compileTemplate(name: string, text: string, filters: ReadonlySet<string>, tests: ReadonlySet<string>, stream = false): CompiledTemplate {
  const nodes = parseTemplate(text, filters, tests);
  const references: Reference[] = [];
  for (const node of allNodes(nodes)) {
    const kind = REFERENCE_KINDS[node.type];
    if (kind && "template" in node) references.push({ name: node.template, line: node.line, kind });
  }
  return { name, source: generateTemplate(name, nodes, 1, stream), references, readsFlashes: readsName(nodes, "flashes") };
}
