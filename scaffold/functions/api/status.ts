import type { Handler } from "kiln";

export const onRequestGet: Handler = () => Response.json({ ok: true });
