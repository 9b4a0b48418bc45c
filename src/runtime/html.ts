// `html`: a tagged template for HTML written inline. Every value is escaped
// unless it is itself `html` or `raw`; arrays are joined, so a list of rows
// composes without a join(""). The result can be a Response body.
import { withKnownBody } from "./known-body.js";

/** A piece of HTML that is safe as it is: made by `html` or `raw`, never escaped again. */
export class HtmlString {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const SPECIAL = /[&<>"']/;

/**
 * Escapes text for HTML, in content and in quoted attribute values alike.
 * Template values are mostly short, and for them a loop over the characters
 * costs less than starting a regexp search (bench/README.md, templates). A
 * long text is searched by the regexp first, as before, so a long text with
 * nothing to escape costs what it did.
 */
export function escapeHtml(value: unknown): string {
  const s = String(value);
  let i = s.length > 64 ? s.search(SPECIAL) : 0;
  if (i < 0) return s;
  let out = "";
  let last = 0;
  for (; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 62 || (ch !== 38 && ch !== 60 && ch !== 62 && ch !== 34 && ch !== 39)) continue;
    out += s.slice(last, i) + (ch === 38 ? "&amp;" : ch === 60 ? "&lt;" : ch === 62 ? "&gt;" : ch === 34 ? "&quot;" : "&#39;");
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

function piece(value: unknown): string {
  if (value instanceof HtmlString) return value.value;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): HtmlString {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new HtmlString(out);
}

/** Trusted HTML, inserted as it is. Never give it anything a visitor wrote. */
export function raw(value: string): HtmlString {
  return new HtmlString(String(value));
}

const HTML = new Headers({ "content-type": "text/html; charset=utf-8" });

/** The init of an HTML answer (htmlResponse, renderStream): text/html; charset=utf-8 unless `init` names another type. */
export function htmlInit(init: ResponseInit): ResponseInit {
  if (!init.headers) return { status: init.status, statusText: init.statusText, headers: HTML };
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
  return { ...init, headers };
}

/** An HTML Response (text/html; charset=utf-8 unless init says otherwise). */
export function htmlResponse(body: HtmlString | string, init: ResponseInit = {}): Response {
  const text = String(body);
  return withKnownBody(new Response(text, htmlInit(init)), text);
}
