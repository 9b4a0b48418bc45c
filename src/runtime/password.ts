// Password hashing: PBKDF2-SHA-256 through WebCrypto, the one slow hash that
// Workers run natively (no bcrypt, no scrypt, no Argon2 without WebAssembly).
// The stored string carries its own parameters, PHC-style:
//   $pbkdf2-sha256$i=100000$<salt>$<hash>   (base64url, no padding)
// so a later kiln can raise the cost and needsRehash() tells the app when a
// stored hash should be replaced at the user's next login.
import { base64url, fromBase64url } from "./base64url.js";

/**
 * The highest count deployed Workers accept: above it, deriveBits throws
 * "iteration counts above 100000 are not supported" (workerd #1346), though
 * a local workerd takes more. OWASP asks 600,000 for PBKDF2-SHA-256; the
 * stored parameters let this rise the day the platform allows it.
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Longer passwords are refused: each PBKDF2 round hashes the key again, so a megabyte password is a denial of service. */
export const MAX_PASSWORD_BYTES = 4096;
const PREFIX = "$pbkdf2-sha256$i=";
const SHAPE = /^\$pbkdf2-sha256\$i=([1-9][0-9]{0,6})\$([A-Za-z0-9_-]{11,88})\$([A-Za-z0-9_-]{22,88})$/;

const enc = new TextEncoder();

interface Parsed {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array<ArrayBuffer>;
}

function parse(stored: unknown): Parsed | undefined {
  if (typeof stored !== "string") return undefined;
  const m = SHAPE.exec(stored);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  const salt = fromBase64url(m[2]);
  const hash = fromBase64url(m[3]);
  // Only the length kiln writes: a stored hash cut short by a character can still decode (its last
  // bits are padding) and would then be compared on fewer bytes.
  if (!salt || !hash || iterations > PBKDF2_ITERATIONS || hash.length !== HASH_BYTES) return undefined;
  return { iterations, salt, hash };
}

async function derive(password: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>, iterations: number, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, bytes * 8));
}

function passwordBytes(password: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof password !== "string") return undefined;
  const bytes = enc.encode(password);
  return bytes.length <= MAX_PASSWORD_BYTES ? bytes : undefined;
}

/** A self-describing hash of `password` (algorithm, iterations, a random salt, the hash), to store instead of it. */
export async function hashPassword(password: string): Promise<string> {
  const bytes = passwordBytes(password);
  if (!bytes) throw new RangeError(`hashPassword: the password must be a string of at most ${MAX_PASSWORD_BYTES} bytes`);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(bytes, salt, PBKDF2_ITERATIONS, HASH_BYTES);
  return `${PREFIX}${PBKDF2_ITERATIONS}$${base64url(salt)}$${base64url(hash)}`;
}

/** Stands in for an account that does not exist, so that a login for it costs what a wrong password costs. */
const DUMMY_SALT = new Uint8Array(SALT_BYTES);

/**
 * Whether `password` matches `stored`. The comparison takes the same time
 * wherever the bytes differ. A stored value that is missing, malformed, of an
 * unknown algorithm or asks more iterations than Workers allow is `false`,
 * never a throw, after the same PBKDF2 work as a real check: pass `undefined`
 * for an account that does not exist, and the answer takes as long as for one
 * that does.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = parse(stored);
  const bytes = passwordBytes(password);
  const actual = await derive(bytes ?? new Uint8Array(0), parsed?.salt ?? DUMMY_SALT, parsed?.iterations ?? PBKDF2_ITERATIONS, parsed?.hash.length ?? HASH_BYTES);
  return parsed !== undefined && bytes !== undefined && sameBytes(actual, parsed.hash);
}

/** Constant time for equal lengths; lengths are not secret (they are in the stored string). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * True when `stored` was made with weaker parameters than hashPassword uses
 * now (or is not a kiln hash at all): after a successful login, hash the
 * password again and store the new string.
 */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.iterations < PBKDF2_ITERATIONS || parsed.salt.length < SALT_BYTES || parsed.hash.length !== HASH_BYTES;
}
