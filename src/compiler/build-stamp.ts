// Under `wrangler dev`, wrangler 4.86 runs the [build] command twice at
// start-up: once to find the entry, then again when its watcher on watch_dir
// is ready (cloudflare/workers-sdk#7934, fixed in wrangler versions that need
// Node 22). So kiln build under wrangler dev keeps a stamp of what it read (the
// files of functions/, templates/ and the assets folder with their sizes and
// mtimes, the wrangler config, its arguments, kiln's own code) and of what it
// wrote; when nothing of it changed since, the build is skipped, silently.
// Any edit, added or deleted file, config change or missing output rebuilds.
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { templatesModulePath } from "./entry.js";
import { walkFiles } from "./walk.js";
import { TYPES_FILE, WRANGLER_CONFIGS } from "./wrangler-config.js";

/** The stamp's file, beside the entry (.kiln/ by default). */
export const STAMP_FILE = "build-stamp.json";

export interface StampOptions {
  root?: string;
  out?: string;
  assets?: string;
  /** The whole command line after `kiln`, as given. */
  args: string[];
  /** Whether the build runs under wrangler dev: the entry differs (entry.ts `dev`). */
  dev: boolean;
}

/** How soon after a build wrangler's repeat of it comes, at most: its watcher's first scan of watch_dir. */
const REPEAT_WINDOW_MS = 30_000;

/** Size and mtime, or null for a file that is not there. */
type FileState = [number, number] | null;

/** kiln's own compiled code (dist/, or src/ when run from source): a new kiln rebuilds. */
const KILN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export class BuildStamp {
  readonly file: string;
  private readonly root: string;
  private readonly outFile: string;
  private readonly before: string;

  constructor(private readonly options: StampOptions) {
    this.root = resolve(options.root ?? ".");
    this.outFile = resolve(options.out ?? join(this.root, ".kiln/worker.ts"));
    this.file = join(dirname(this.outFile), STAMP_FILE);
    this.before = JSON.stringify(this.inputs());
  }

  /**
   * Whether the last build wrote this stamp moments ago from these very inputs, and its outputs
   * are as it left them. Only moments ago: wrangler's repeat follows its first build within
   * seconds, and a new `wrangler dev` later on builds and says what it built.
   */
  unchanged(now = Date.now()): boolean {
    if (!(statSync(this.file, { throwIfNoEntry: false })?.mtimeMs! > now - REPEAT_WINDOW_MS)) return false;
    const outputs = this.outputs();
    if (!outputs[this.outFile] || !outputs[join(dirname(this.outFile), "routes.d.ts")]) return false;
    return readText(this.file) === stampText(this.before, outputs);
  }

  /**
   * After a build that succeeded. An input that changed while the build ran (an editor's save,
   * or the build's own run_worker_first line in wrangler.toml) leaves no stamp: the next build runs.
   */
  record(): void {
    if (JSON.stringify(this.inputs()) !== this.before) return this.forget();
    writeFileSync(this.file, stampText(this.before, this.outputs()));
  }

  /** After a build that failed, or one whose inputs moved under it. */
  forget(): void {
    rmSync(this.file, { force: true });
  }

  private inputs(): Record<string, unknown> {
    const { root } = this;
    const tree = (dir: string) => Object.fromEntries((walkFiles(dir) ?? []).map((f) => [f, state(join(dir, f))]));
    return {
      args: this.options.args,
      cwd: process.cwd(),
      dev: this.options.dev,
      kiln: { version: kilnVersion(), files: tree(KILN_DIR) },
      functions: tree(join(root, "functions")),
      templates: tree(join(root, "templates")),
      assets: tree(resolve(root, this.options.assets ?? "public")),
      config: Object.fromEntries([...WRANGLER_CONFIGS, TYPES_FILE].map((f) => [f, state(join(root, f))])),
    };
  }

  private outputs(): Record<string, FileState> {
    const files = [this.outFile, templatesModulePath(this.outFile), join(dirname(this.outFile), "routes.d.ts")];
    return Object.fromEntries(files.map((f) => [f, state(f)]));
  }
}

function stampText(inputs: string, outputs: Record<string, FileState>): string {
  return `{"inputs":${inputs},"outputs":${JSON.stringify(outputs)}}\n`;
}

function state(file: string): FileState {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat ? [stat.size, stat.mtimeMs] : null;
}

function kilnVersion(): string | undefined {
  const text = readText(join(KILN_DIR, "../package.json"));
  try {
    return text === undefined ? undefined : (JSON.parse(text) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
