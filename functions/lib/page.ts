// The demo's page shell: one layout for every page, written with kiln's html`…`,
// which escapes every value unless it is html`…` itself.
import { html, htmlResponse, type HtmlString } from "kiln";

export interface PageOptions {
  title: string;
  user?: string;
  cartCount?: number;
  notice?: unknown;
  status?: number;
}

export function page(body: HtmlString, options: PageOptions): Response {
  const nav = options.user
    ? html`<span>Signed in as ${options.user}</span>
        <form method="post" action="/logout"><button>Log out</button></form>`
    : html`<a href="/login">Log in</a>`;
  return htmlResponse(
    html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · kiln shop</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><a href="/" class="brand"><img src="/img/kiln.svg" alt="" width="24" height="24"> kiln shop</a>
<nav><a href="/products">Catalog</a> <a href="/about">About</a> <a href="/members">Members</a> <a href="/cart">Cart (${options.cartCount ?? 0})</a> ${nav}</nav></header>
<main>${options.notice ? html`<p class="notice">${options.notice}</p>` : ""}${body}</main>
</body>
</html>
`,
    { status: options.status ?? 200 },
  );
}
