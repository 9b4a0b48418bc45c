import type { Handler } from "kiln";
import { visitor } from "../lib/page.ts";

export const onRequestGet: Handler = async ({ session, render }) => render("members.html", await visitor(session));
