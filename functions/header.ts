import type { Handler } from "kiln";
import { visitor } from "./lib/page.ts";

// The header of every page, for this visitor (templates/header.html). The pages
// that are the same for everyone, and so cannot know who looks (the cached
// catalog, public/404.html and public/500.html), fetch it from public/header.js.
export const onRequestGet: Handler = async ({ session, render }) =>
  render("header.html", await visitor(session), { headers: { "cache-control": "private, no-store" } });
