// The app's wrangler configuration, read once per build by every check that
// needs it: which classes wrangler.toml binds (kiln's own, the app's), which
// handlers its crons and queues need, which bindings the generated types lack.
// wrangler.json, wrangler.jsonc or wrangler.toml, in wrangler's own order.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { BuildError } from "./scan.js";

export const WRANGLER_CONFIGS = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

type Table = Record<string, unknown>;

export interface WranglerConfig {
  /** The file's name, as messages show it: wrangler.toml. */
  file: string;
  /** The top level, then each [env.NAME]; `prefix` names a setting of that environment in messages. */
  environments: { prefix: string; settings: Table }[];
}

/** The config in ROOT, or undefined when it has none; a file that does not parse is a build error naming it. */
export function readWranglerConfig(root: string): WranglerConfig | undefined {
  for (const file of WRANGLER_CONFIGS) {
    let text: string;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      continue;
    }
    const settings = parse(file, text);
    const envs = isTable(settings.env) ? Object.entries(settings.env).filter((e): e is [string, Table] => isTable(e[1])) : [];
    return { file, environments: [{ prefix: "", settings }, ...envs.map(([name, env]) => ({ prefix: `env.${name}.`, settings: env }))] };
  }
  return undefined;
}

function parse(file: string, text: string): Table {
  try {
    const value = file.endsWith(".toml") ? parseToml(text) : JSON.parse(stripJsonComments(text));
    if (isTable(value)) return value;
  } catch (err) {
    const at = err instanceof TomlError ? `:${err.line}:${err.column}` : "";
    throw new BuildError([`${file}${at}: kiln cannot read it: ${String((err as Error).message).split("\n")[0]}`]);
  }
  throw new BuildError([`${file}: kiln cannot read it: not an object`]);
}

/** JSONC as wrangler accepts it: comments and trailing commas, outside strings. */
function stripJsonComments(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith('"') ? m : ""))
    .replace(/"(?:[^"\\]|\\.)*"|,(\s*[\]}])/g, (m, close: string | undefined) => close ?? m);
}

export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A list of tables under a dotted key (durable_objects.bindings), or []. */
export function tablesAt(settings: Table, path: string): Table[] {
  let value: unknown = settings;
  for (const key of path.split(".")) value = isTable(value) ? value[key] : undefined;
  return Array.isArray(value) ? value.filter(isTable) : [];
}

/** A Durable Object binding of this Worker's own (no script_name naming another Worker). */
export interface ClassBinding {
  /** The setting, for messages: durable_objects.bindings "STOCK", env.staging.workflows "NIGHTLY". */
  setting: string;
  className: string;
}

/** The classes that the Worker itself must export: Durable Object and Workflow bindings without a script_name, in every environment. */
export function ownClassBindings(config: WranglerConfig | undefined): ClassBinding[] {
  const out: ClassBinding[] = [];
  for (const { prefix, settings } of config?.environments ?? []) {
    const own = (t: Table) => typeof t.class_name === "string" && (t.script_name === undefined || t.script_name === settings.name);
    for (const t of tablesAt(settings, "durable_objects.bindings").filter(own)) {
      out.push({ setting: `${prefix}durable_objects.bindings "${String(t.name)}"`, className: t.class_name as string });
    }
    for (const t of tablesAt(settings, "workflows").filter(own)) {
      out.push({ setting: `${prefix}workflows "${String(t.binding ?? t.name)}"`, className: t.class_name as string });
    }
  }
  return out;
}

/** Whether the Worker binds one of its own Durable Objects to `className` (kiln's KilnRateLimiter, ...): then the entry must export it. */
export function bindsClass(config: WranglerConfig | undefined, className: string): boolean {
  return ownClassBindings(config).some((b) => b.className === className);
}

/** Every binding name the config declares, in any environment: KV, R2, D1, Durable Objects, queues, services, vars, assets, ... */
export function bindingNames(config: WranglerConfig | undefined): Set<string> {
  const names = new Set<string>();
  const add = (value: unknown) => typeof value === "string" && names.add(value);
  for (const { settings } of config?.environments ?? []) {
    for (const key of ["kv_namespaces", "r2_buckets", "d1_databases", "services", "queues.producers", "workflows", "vectorize", "hyperdrive", "analytics_engine_datasets", "mtls_certificates", "dispatch_namespaces"]) {
      for (const t of tablesAt(settings, key)) add(t.binding);
    }
    for (const t of [...tablesAt(settings, "durable_objects.bindings"), ...tablesAt(settings, "send_email")]) add(t.name);
    for (const key of ["assets", "ai", "browser", "images", "version_metadata"]) if (isTable(settings[key])) add(settings[key].binding);
    if (isTable(settings.vars)) Object.keys(settings.vars).forEach(add);
  }
  return names;
}

/** Where `wrangler types` writes the app's Env, which kiln's Handler reads. */
export const TYPES_FILE = "worker-configuration.d.ts";

/**
 * A binding the config declares and the generated types lack is one the code
 * sees untyped: say how to regenerate them. wrangler dev regenerates them itself
 * with [dev] generate_types = true; an app without the file has not opted in.
 */
export function staleTypesNote(root: string, config: WranglerConfig | undefined): string | undefined {
  if (!config || (config.environments[0].settings.dev as Table | undefined)?.generate_types === true) return undefined;
  let text: string;
  try {
    text = readFileSync(join(root, TYPES_FILE), "utf8");
  } catch {
    return undefined;
  }
  // Only the Env part: the runtime's types that follow it are thousands of lines with no binding in them.
  const env = text.split("// Begin runtime types")[0];
  const typed = new Set([...env.matchAll(/^\s*"?([A-Za-z_$][\w$]*)"?\??:/gm)].map((m) => m[1]));
  const missing = [...bindingNames(config)].filter((name) => !typed.has(name));
  if (!missing.length) return undefined;
  return `${TYPES_FILE} does not type ${missing.join(", ")}, which ${config.file} binds: run npx wrangler types (or set [dev] generate_types = true in ${config.file}, and wrangler dev keeps it fresh)`;
}
