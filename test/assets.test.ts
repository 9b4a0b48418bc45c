import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { scanPublic } from "../src/compiler/assets.js";
import { assetKey } from "../src/runtime/static-files.js";

function folder(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-assets-"));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), "x");
  }
  return dir;
}

describe("what the build learns about public/", () => {
  it("keys every path html_handling maps to one file alike", () => {
    expect(["/a/b.html", "/a/b", "/a/b/"].map(assetKey)).toEqual(["/a/b", "/a/b", "/a/b"]);
    expect(["/a/index.html", "/a/index", "/a/", "/a"].map(assetKey)).toEqual(["/a", "/a", "/a", "/a"]);
    expect(["/index.html", "/"].map(assetKey)).toEqual(["/", "/"]);
    expect(assetKey("/img/logo.png")).toBe("/img/logo.png");
  });

  it("lists the files of public/ and notices a 404 page", () => {
    expect(scanPublic(folder(["index.html", "about.html", "css/site.css", "docs/index.html", "404.html"]))).toEqual({
      keys: ["/", "/404", "/about", "/css/site.css", "/docs"],
      pages: [404],
    });
  });

  it("gives up on the list (the runtime then always asks the assets) without a folder or with _redirects", () => {
    expect(scanPublic(join(tmpdir(), "kiln-no-such-folder"))).toEqual({});
    expect(scanPublic(folder(["index.html", "_redirects"])).keys).toBeUndefined();
  });

  it("lists the folders without an index.html when listings are on", () => {
    expect(scanPublic(folder(["index.html", "files/a.txt", "files/sub/b.txt", "_headers"]), { listings: true }).listings).toEqual({
      "/files": ["a.txt", "sub/"],
      "/files/sub": ["b.txt"],
    });
  });
});
