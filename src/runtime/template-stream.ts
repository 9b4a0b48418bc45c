// renderStream: a page sent while it renders. The build compiles each
// template a second time as generators (`stream: { blocks, body }`, see
// compiler/template/generate.ts) and ships this module only for apps that
// call renderStream; the generated generators call `rs` where render's
// functions call `rt`.
import { htmlInit } from "./html.js";
import { blockScope, blocksOf, functionBlocks, templateNamed, type RenderState, type Scope, type StreamPart, type Streamed, type Templates } from "./template.js";

const streamChains = new WeakMap<object, Record<string, StreamPart[]>>();

/** What render would return, in pieces, from the templates' generators. */
function streamWith(templates: Templates, name: string, c: Scope): Generator<string, void> {
  const template = templateNamed(templates, name);
  const blocks = functionBlocks(templates, template);
  const streamBlocks = blocksOf(templates, template, streamChains, (t) => t.stream!.blocks);
  return template.stream!.body(c, { templates, blocks, streamBlocks });
}

/** What the generated generators call. */
export const rs = {
  /** A block: its own parts yield; super() is a value, as in render. */
  *block(r: RenderState, name: string, c: Scope): Generator<string, void> {
    const part = r.streamBlocks![name]?.[0];
    if (part) yield* part(blockScope(part, r, name, c, 0), r);
  },
  extend: (r: RenderState, parent: string, c: Scope) => r.templates[parent].stream!.body(c, r),
  include: (r: RenderState, name: string, c: Scope) => streamWith(r.templates, name, Object.create(c)),
};

const encoder = new TextEncoder();

/** The Response of renderStream: the first piece is rendered before it, the rest as the client reads, a turn of the event loop between pieces. */
export const streamed: Streamed = (templates, name, vars, init, asRendering) => {
  const pieces = streamWith(templates, name, vars);
  const next = () => {
    let piece;
    do piece = asRendering(() => pieces.next());
    while (!piece.done && piece.value === "");
    return piece;
  };
  // The first piece is rendered before the answer: a template that fails at its top is still a 500.
  let piece = next();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (piece.done) return controller.close();
      controller.enqueue(encoder.encode(piece.value));
      // One turn of the event loop, so that this piece leaves before the next is rendered.
      await new Promise((resume) => setTimeout(resume, 0));
      try {
        piece = next();
      } catch (err) {
        // The status and the first rows are gone already: the client sees the page end early, and the log says why.
        console.error(err);
        controller.error(err);
      }
    },
    cancel: () => void pieces.return(),
  });
  return new Response(body, htmlInit(init));
};
