// Accounts, kept in the KV namespace bound as USERS: one record per email.
import { hashPassword, verifyPassword } from "./password.ts";

export interface Env {
  USERS: KVNamespaceLike;
}

interface KVNamespaceLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
}

interface UserRecord {
  email: string;
  salt: string;
  hash: string;
}

const key = (email: string) => `user:${email.trim().toLowerCase()}`;

/** The demo account, written on first use so a fresh clone has someone to log in as. */
export const DEMO = { email: "demo@kiln.dev", password: "kiln-demo-password" };

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

async function seedDemo(env: Env): Promise<void> {
  if (await env.USERS.get(key(DEMO.email), "json")) return;
  await createUser(env, DEMO.email, DEMO.password);
}

export async function createUser(env: Env, email: string, password: string): Promise<"created" | "taken"> {
  if (await env.USERS.get(key(email), "json")) return "taken";
  const salt = hex(crypto.getRandomValues(new Uint8Array(16)));
  const record: UserRecord = { email: email.trim().toLowerCase(), salt, hash: await hashPassword(password, salt) };
  await env.USERS.put(key(email), JSON.stringify(record));
  return "created";
}

/** The account's email when the password is right. */
export async function checkLogin(env: Env, email: string, password: string): Promise<string | undefined> {
  await seedDemo(env);
  // No account can have an email that is not valid; a key too long for KV would make the lookup throw.
  const record = validEmail(email) ? ((await env.USERS.get(key(email), "json")) as UserRecord | null) : null;
  if (!record) {
    await hashPassword(password, "00".repeat(16)); // the same time whether or not the account exists
    return undefined;
  }
  return (await verifyPassword(password, record.salt, record.hash)) ? record.email : undefined;
}

export const validEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 254;
