// Splits a Jinja-syntax template into text, {{ output }} and {% tag %} pieces,
// with their line numbers, and applies whitespace control ({%- -%}) and
// {# comments #} and {% raw %} here, so the parser never sees them.

export type Piece =
  | { kind: "text"; value: string; line: number }
  | { kind: "output"; source: string; line: number }
  | { kind: "tag"; source: string; line: number };

export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

const OPEN = /\{\{|\{%|\{#/g;
const CLOSE: Record<string, string> = { "{{": "}}", "{%": "%}", "{#": "#}" };

export function lex(source: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  let line = 1;
  let trimNext = false;
  const lineAt = (index: number) => line + (source.slice(at, index).match(/\n/g)?.length ?? 0);
  const pushText = (text: string, trimEnd: boolean, textLine: number) => {
    let value = trimNext ? text.trimStart() : text;
    if (trimEnd) value = value.trimEnd();
    if (value) pieces.push({ kind: "text", value, line: textLine });
  };
  for (;;) {
    OPEN.lastIndex = at;
    const open = OPEN.exec(source);
    if (!open) {
      pushText(source.slice(at), false, line);
      return pieces;
    }
    const start = open.index;
    const kind = open[0];
    const trimBefore = source[start + 2] === "-";
    pushText(source.slice(at, start), trimBefore, line);
    const tagLine = lineAt(start);
    const close = source.indexOf(CLOSE[kind], start + 2);
    if (close < 0) throw new TemplateSyntaxError(`"${kind}" is never closed with "${CLOSE[kind]}"`, tagLine);
    const trimAfter = source[close - 1] === "-" && close - 1 > start + 2;
    const inner = source.slice(start + 2 + (trimBefore ? 1 : 0), close - (trimAfter ? 1 : 0)).trim();
    let end = close + 2;
    if (kind === "{{") {
      if (!inner) throw new TemplateSyntaxError("empty {{ }}", tagLine);
      pieces.push({ kind: "output", source: inner, line: tagLine });
    } else if (kind === "{%") {
      if (inner === "raw") {
        const endRaw = /\{%-?\s*endraw\s*-?%\}/g;
        endRaw.lastIndex = end;
        const found = endRaw.exec(source);
        if (!found) throw new TemplateSyntaxError("{% raw %} is never closed with {% endraw %}", tagLine);
        pieces.push({ kind: "text", value: source.slice(end, found.index), line: tagLine });
        end = found.index + found[0].length;
      } else {
        pieces.push({ kind: "tag", source: inner, line: tagLine });
      }
    }
    line = lineAt(end);
    at = end;
    trimNext = trimAfter;
  }
}
