// Reads a wrangler.toml with wrangler's own config reader, as `wrangler dev`
// would; prints its warnings and errors. Used by test/docs.test.ts to check
// the toml samples of the docs.
import { unstable_readConfig } from "wrangler";

try {
  unstable_readConfig({ config: process.argv[2] }, { hideWarnings: false });
} catch (err) {
  console.error(String(err?.message ?? err));
  process.exitCode = 1;
}
