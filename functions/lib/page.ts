// The demo's page shell. Inline HTML until templates arrive; every value goes through escapeHtml.
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageOptions {
  title: string;
  user?: string;
  cartCount?: number;
  notice?: unknown;
  status?: number;
}

export function page(body: string, options: PageOptions): Response {
  const nav = options.user
    ? `<span>Signed in as ${escapeHtml(options.user)}</span>
       <form method="post" action="/logout"><button>Log out</button></form>`
    : `<a href="/login">Log in</a>`;
  const notice = options.notice ? `<p class="notice">${escapeHtml(options.notice)}</p>` : "";
  return new Response(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · kiln shop</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><a href="/" class="brand"><img src="/img/kiln.svg" alt="" width="24" height="24"> kiln shop</a> <nav><a href="/products">Catalog</a> <a href="/about">About</a> <a href="/members">Members</a> <a href="/cart">Cart (${options.cartCount ?? 0})</a> ${nav}</nav></header>
<main>${notice}${body}</main>
</body>
</html>
`,
    { status: options.status ?? 200, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}
