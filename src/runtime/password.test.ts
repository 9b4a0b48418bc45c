// Password hashing in-process (Node's WebCrypto is the same API as workerd's):
// the stored format, failures that must be `false`, rehashing, and the
// iteration ceiling of deployed Workers. test/auth.test.ts runs the same
// functions inside workerd.
import { pbkdf2Sync } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashPassword, MAX_PASSWORD_BYTES, needsRehash, PBKDF2_ITERATIONS, verifyPassword } from "./password.js";

afterEach(() => vi.restoreAllMocks());

/** A stored string as another system (or an older kiln) might have written it, made with node:crypto. */
function storedWith(password: string, iterations: number, saltBytes = 16, hashBytes = 32): string {
  const salt = Buffer.alloc(saltBytes, 7);
  const hash = pbkdf2Sync(password, salt, iterations, hashBytes, "sha256");
  return `$pbkdf2-sha256$i=${iterations}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** The iteration counts kiln asks WebCrypto for while `run` runs. */
async function iterationsAsked(run: () => Promise<unknown>): Promise<number[]> {
  const derive = vi.spyOn(crypto.subtle, "deriveBits");
  await run();
  const asked = derive.mock.calls.map(([params]) => (params as Pbkdf2Params).iterations);
  derive.mockRestore();
  return asked;
}

describe("hashPassword and verifyPassword", () => {
  it("round-trips, with a random salt and the parameters in the string", async () => {
    const [a, b] = [await hashPassword("correct horse"), await hashPassword("correct horse")];
    expect(a).toMatch(/^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse", b)).toBe(true);
  });

  it("is what PBKDF2-SHA-256 gives elsewhere: node:crypto's hash verifies", async () => {
    expect(await verifyPassword("ünïcødé pass", storedWith("ünïcødé pass", 100_000))).toBe(true);
  });

  it("refuses a wrong password, one that differs in the last character, and an empty one", async () => {
    const stored = await hashPassword("correct horse");
    for (const wrong of ["wrong horse", "correct hors", "correct horsf", "", "Correct horse"]) expect(await verifyPassword(wrong, stored)).toBe(false);
  });

  it("a stored value that is missing, malformed or of another algorithm is false, never a throw", async () => {
    const good = await hashPassword("pw");
    const bad = [undefined, null, "", "pw", good.slice(0, -1), good + "=", good.replace("sha256", "sha512"), good.replace("i=100000", "i=0"),
      good.replace("i=100000", "i=0100000"), good.replace(/\$[^$]+$/, "$!!!!!!!!!!!!!!!!!!!!!!!!"), "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
      "$pbkdf2-sha256$i=1$$", 42 as unknown as string, { toString: () => good } as unknown as string];
    for (const stored of bad) expect(await verifyPassword("pw", stored), String(stored)).toBe(false);
    // A hash cut short decodes whenever its new last character's padding bits are zero (1 in 16): try until one does.
    let short = good.slice(0, -1);
    for (let i = 0; /[AQgw]$/.test(short) === false && i < 200; i++) short = (await hashPassword("pw")).slice(0, -1);
    expect(/[AQgw]$/.test(short), "found a hash that still decodes when cut short").toBe(true);
    expect(await verifyPassword("pw", short)).toBe(false);
    expect(await verifyPassword(undefined as unknown as string, good)).toBe(false);
  });

  it("never asks WebCrypto for more than 100,000 iterations, the most deployed Workers allow", async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const asked = await iterationsAsked(async () => {
      await hashPassword("pw");
      // Node, like the local workerd, could compute 600,000: a stored hash that asks it is refused, not computed.
      expect(await verifyPassword("pw", storedWith("pw", 600_000))).toBe(false);
      expect(await verifyPassword("pw", storedWith("pw", 100_001))).toBe(false);
      await verifyPassword("pw", undefined);
    });
    expect(asked.length).toBe(4);
    expect(Math.max(...asked)).toBe(100_000);
  });

  it("an account that does not exist costs the same work as a wrong password", async () => {
    expect(await iterationsAsked(() => verifyPassword("guess", undefined))).toEqual([PBKDF2_ITERATIONS]);
    expect(await iterationsAsked(() => verifyPassword("guess", "garbage"))).toEqual([PBKDF2_ITERATIONS]);
  });

  it(`refuses to hash a password over ${MAX_PASSWORD_BYTES} bytes, and never verifies one`, async () => {
    const long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    await expect(hashPassword(long)).rejects.toThrow(RangeError);
    const stored = storedWith(long, 1000);
    expect(await verifyPassword(long, stored)).toBe(false);
    expect(await verifyPassword("x".repeat(MAX_PASSWORD_BYTES), storedWith("x".repeat(MAX_PASSWORD_BYTES), 1000))).toBe(true);
  });
});

describe("needsRehash", () => {
  it("is false for what hashPassword makes today", async () => {
    expect(needsRehash(await hashPassword("pw"))).toBe(false);
  });

  it("is true for fewer iterations, a short salt, another hash length, or a string that is not kiln's", () => {
    expect(needsRehash(storedWith("pw", 10_000))).toBe(true);
    expect(needsRehash(storedWith("pw", 100_000, 8))).toBe(true);
    expect(needsRehash(storedWith("pw", 100_000, 16, 64))).toBe(true);
    expect(needsRehash("5f4dcc3b5aa765d61d8327deb882cf99")).toBe(true);
  });

  it("a login with an old hash verifies, and the hash made then is current", async () => {
    const old = storedWith("pw", 1_000);
    expect(await verifyPassword("pw", old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    const upgraded = await hashPassword("pw");
    expect(needsRehash(upgraded)).toBe(false);
    expect(await verifyPassword("pw", upgraded)).toBe(true);
  });
});
