export const onRequestGet = () =>
  new Response(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>kiln demo</title><link rel="stylesheet" href="/style.css"></head>
<body>
  <h1>kiln</h1>
  <p>This page is <code>functions/index.ts</code>.</p>
  <ul>
    <li><a href="/hello/world">/hello/world</a> — <code>functions/hello/[name].ts</code></li>
    <li><a href="/api/time">/api/time</a> — <code>functions/api/time.ts</code></li>
    <li><a href="/robots.txt">/robots.txt</a> — a static file from <code>public/</code></li>
  </ul>
</body>
</html>
`,
    { headers: { "content-type": "text/html; charset=utf-8" } },
  );
