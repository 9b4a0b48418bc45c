import type { Handler } from "kiln";

// The file's own path types params: { name: string }.
export const onRequestGet: Handler<"hello/[name].ts"> = ({ params, render }) => render("hello.html", { name: params.name });
