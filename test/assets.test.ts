import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listAssetKeys } from "../src/build/assets.js";
import { assetKey } from "../src/runtime/fallback.js";

function folder(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-assets-"));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), "x");
  }
  return dir;
}

describe("the asset list the build writes", () => {
  it("keys every path html_handling maps to one file alike", () => {
    expect(["/a/b.html", "/a/b", "/a/b/"].map(assetKey)).toEqual(["/a/b", "/a/b", "/a/b"]);
    expect(["/a/index.html", "/a/index", "/a/", "/a"].map(assetKey)).toEqual(["/a", "/a", "/a", "/a"]);
    expect(["/index.html", "/"].map(assetKey)).toEqual(["/", "/"]);
    expect(assetKey("/img/logo.png")).toBe("/img/logo.png");
  });

  it("lists the files of public/", () => {
    expect(listAssetKeys(folder(["index.html", "about.html", "css/site.css", "docs/index.html"]))).toEqual([
      "/",
      "/about",
      "/css/site.css",
      "/docs",
    ]);
  });

  it("gives up (the runtime then always asks the assets) without a folder or with _redirects", () => {
    expect(listAssetKeys(join(tmpdir(), "kiln-no-such-folder"))).toBeUndefined();
    expect(listAssetKeys(folder(["index.html", "_redirects"]))).toBeUndefined();
  });
});
