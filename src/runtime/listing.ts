// Folder listings (kiln build --listings), as `python -m http.server` gives.
// A module of its own, so apps that leave listings off do not ship it.

import { escapeHtml } from "./html.js";

/** A folder listing, as `python -m http.server` gives, made from the list the build wrote. */
export function listing(key: string, entries: string[]): Response {
  const base = key === "/" ? "/" : `${key}/`;
  const items = entries.map((e) => `<li><a href="${escapeHtml(encodeURI(base + e))}">${escapeHtml(e)}</a></li>`).join("\n");
  const title = `Index of ${escapeHtml(base)}`;
  return new Response(`<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n<ul>\n${items}\n</ul>\n`, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}
