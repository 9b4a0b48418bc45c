// The session cookie's name, in one place for everything that must recognise
// it: the session store, the cross-site check and the edge cache.

export const COOKIE_NAME = "kiln_session";

// Spelt as the `cookie` package reads names: spaces and tabs around them are trimmed.
const CARRIES = new RegExp(`(?:^|;)[ \\t]*${COOKIE_NAME}[ \\t]*=`);

/** Whether a Cookie header carries the session cookie (valid or not). */
export function hasSessionCookie(header: string | null): boolean {
  return header !== null && CARRIES.test(header);
}
