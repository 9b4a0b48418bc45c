// Accounts, kept in the KV namespace bound as USERS: one record per email,
// with the password hashed by kiln (a self-describing PBKDF2 string) and the
// account's roles.
import { hashPassword, needsRehash, verifyPassword } from "kiln";

export interface Env {
  USERS: KVNamespaceLike;
}

interface KVNamespaceLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
  list(options: { prefix: string }): Promise<{ keys: { name: string }[] }>;
}

export interface Account {
  email: string;
  hash: string;
  roles: string[];
}

const key = (email: string) => `user:${email.trim().toLowerCase()}`;

/** The demo account, written on first use so a fresh clone has someone to log in as; it may see the admin page. */
export const DEMO = { email: "demo@kiln.dev", password: "kiln-demo-password" };

async function seedDemo(env: Env): Promise<void> {
  const account = (await env.USERS.get(key(DEMO.email), "json")) as Partial<Account> | null;
  // A record from an older demo (its own hash format, no roles), kept in a clone's local state, is replaced too.
  if (account?.hash?.startsWith("$pbkdf2-sha256$") && Array.isArray(account.roles)) return;
  const demo: Account = { email: DEMO.email, hash: await hashPassword(DEMO.password), roles: ["admin"] };
  await env.USERS.put(key(DEMO.email), JSON.stringify(demo));
}

/** A new account has no roles: the demo's admin is the demo account. */
export async function createUser(env: Env, email: string, password: string): Promise<"created" | "taken"> {
  if (await env.USERS.get(key(email), "json")) return "taken";
  const account: Account = { email: email.trim().toLowerCase(), hash: await hashPassword(password), roles: [] };
  await env.USERS.put(key(email), JSON.stringify(account));
  return "created";
}

/** The account when the password is right; the same work whether or not the account exists. */
export async function checkLogin(env: Env, email: string, password: string): Promise<Account | undefined> {
  await seedDemo(env);
  // No account can have an email that is not valid; a key too long for KV would make the lookup throw.
  const account = validEmail(email) ? ((await env.USERS.get(key(email), "json")) as Account | null) : null;
  if (!(await verifyPassword(password, account?.hash)) || !account) return undefined;
  // Hashes made with weaker parameters are replaced while the password is at hand.
  if (needsRehash(account.hash)) await env.USERS.put(key(email), JSON.stringify({ ...account, hash: await hashPassword(password) }));
  return account;
}

export async function allAccounts(env: Env): Promise<Pick<Account, "email" | "roles">[]> {
  await seedDemo(env);
  const { keys } = await env.USERS.list({ prefix: "user:" });
  const accounts = await Promise.all(keys.map((k) => env.USERS.get(k.name, "json") as Promise<Account | null>));
  return accounts.filter((a): a is Account => a !== null).map(({ email, roles }) => ({ email, roles: roles ?? [] }));
}

export const validEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 254;
