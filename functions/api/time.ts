export const onRequestGet = () => Response.json({ now: new Date().toISOString() });
