import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { escapeHtml, html, raw } from "../src/runtime/html.js";
import { startApp, type TestApp } from "./helpers/app.js";

describe("html`…`", () => {
  it("escapes values in text and attribute positions", () => {
    const hostile = `<script>alert("x")</script>&'`;
    expect(String(html`<p title="${hostile}">${hostile}</p>`)).toBe(
      "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>",
    );
  });

  it("composes nested html and arrays without escaping them twice", () => {
    const items = ["a<b", "c&d"].map((i) => html`<li>${i}</li>`);
    expect(String(html`<ul>${items}</ul>`)).toBe("<ul><li>a&lt;b</li><li>c&amp;d</li></ul>");
    expect(String(html`${html`${"&"}`}`)).toBe("&amp;");
  });

  it("leaves out null, undefined and false, and keeps 0", () => {
    expect(String(html`${null}${undefined}${false}${0}`)).toBe("0");
  });

  it("inserts raw() as it is", () => {
    expect(String(html`${raw("<hr>")}`)).toBe("<hr>");
    expect(escapeHtml("<>")).toBe("&lt;&gt;");
  });

  it("escapes short and long text alike, wherever its special characters stand", () => {
    const reference = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
    for (const n of [0, 1, 63, 64, 65, 300]) {
      for (const special of ["", "<", `a&b"c'd>e`, "é€😀"]) {
        for (const s of ["x".repeat(n) + special, special + "x".repeat(n), "x".repeat(n) + special + "x".repeat(n) + special]) expect(escapeHtml(s)).toBe(reference(s));
      }
    }
    expect(escapeHtml(12)).toBe("12");
    expect(escapeHtml(null)).toBe("null");
  });
});

describe("html`…` in workerd", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(resolve(import.meta.dirname, "fixtures/html"));
  });
  afterAll(() => app?.dispose());

  it("is a Response body as it is", async () => {
    const res = await app.fetch("/page?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E");
    const body = await res.text();
    expect(body).toContain("<h1>&lt;img src=x onerror=alert(1)&gt;</h1>");
    expect(body).toContain('<li title="&lt;b&gt;bold&lt;/b&gt;">&lt;b&gt;bold&lt;/b&gt;</li>');
    expect(body).toContain('<li title="say &quot;hi&quot;">say &quot;hi&quot;</li>');
    expect(body).toContain("<hr>0<p class='x&#39; onmouseover=&#39;y'></p>");
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it("works as a Response body without a helper", async () => {
    expect(await (await app.fetch("/plain-body")).text()).toBe("<p>&lt;ok&gt;</p>");
  });
});
