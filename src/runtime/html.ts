// `html`: a tagged template for HTML written inline. Every value is escaped
// unless it is itself `html` or `raw`; arrays are joined, so a list of rows
// composes without a join(""). The result can be a Response body.

/** A piece of HTML that is safe as it is: made by `html` or `raw`, never escaped again. */
export class HtmlString {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML, in content and in quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
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

/** An HTML Response (text/html; charset=utf-8 unless init says otherwise). */
export function htmlResponse(body: HtmlString | string, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
  return new Response(String(body), { ...init, headers });
}
