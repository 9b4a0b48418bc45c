// base64url without padding (RFC 4648 §5): session ids and signatures, ETags.
export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The bytes of `text` when it is spelled exactly as base64url() writes them, else undefined.
 * atob alone would also take padding, "+", "/", spaces and a last character whose unused
 * bits are set: several spellings of one signature, where a signature must have one.
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  let s: string;
  try {
    s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return undefined;
  }
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  return base64url(bytes) === text ? bytes : undefined;
}
