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
 * Most values have nothing to escape, so one search decides; the rest is a
 * loop over characters, which beats a replace() with a callback.
 */
export function escapeHtml(value: unknown): string {
  const s = String(value);
  const first = s.search(SPECIAL);
  if (first < 0) return s;
  let out = "";
  let last = 0;
  for (let i = first; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 38:
        entity = "&amp;";
        break;
      case 60:
        entity = "&lt;";
        break;
      case 62:
        entity = "&gt;";
        break;
      case 34:
        entity = "&quot;";
        break;
      case 39:
        entity = "&#39;";
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return out + s.slice(last);
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

/** An HTML Response (text/html; charset=utf-8 unless init says otherwise). */
export function htmlResponse(body: HtmlString | string, init: ResponseInit = {}): Response {
  const text = String(body);
  if (!init.headers) return withKnownBody(new Response(text, { status: init.status, statusText: init.statusText, headers: HTML }), text);
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
  return withKnownBody(new Response(text, { ...init, headers }), text);
}
