import type { Handler } from "kiln";

export const onRequestGet: Handler<"hello/[name].ts"> = ({ params }) => new Response(`Hello, ${params.name}!\n`);
