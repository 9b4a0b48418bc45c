// The JSON API may be called from the shop's front end on another origin
// (a Vite dev server here): kiln answers its preflights and names the origin
// in its answers. Other sites' scripts get no CORS headers, so they cannot read them.
export const cors = { origin: ["http://localhost:5173"], headers: ["Content-Type", "Authorization"], maxAge: 600 };
