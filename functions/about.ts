import type { Handler } from "kiln";
import { visitor } from "./lib/page.ts";

export const onRequestGet: Handler = async ({ session, render }) => render("about.html", await visitor(session));
