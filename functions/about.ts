import type { Handler } from "kiln";
import { html } from "kiln";
import { page } from "./lib/page.ts";

export const onRequestGet: Handler = () =>
  page(
    html`<h1>About</h1>
<p>The kiln shop is the demo site of kiln, a framework that compiles a folder of
route files into one Cloudflare Worker. Each page here is a file in <code>functions/</code>; the styles and pictures
are static files in <code>public/</code>; your cart is a session in Workers KV.</p>`,
    { title: "About" },
  );
