// The demo site (functions/ and public/ at the root of the repository), as a visitor uses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(resolve(import.meta.dirname, ".."), { bindings: { SESSION_SECRET: "demo-test-secret-at-least-32-characters" } });
});
afterAll(() => app?.dispose());

/** A browser's cookie jar, for one session cookie. */
class Visitor {
  cookie = "";
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await app.fetch(path, { ...init, redirect: "manual", headers: { ...(init.headers as object), cookie: this.cookie } });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    return res;
  }
  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request(path, { method: "POST", body: new URLSearchParams(form) });
  }
  async page(path: string): Promise<string> {
    return (await this.request(path)).text();
  }
}

describe("the demo shop", () => {
  it("shows the catalog without creating a session", async () => {
    const res = await app.fetch("/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Stoneware mug");
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("keeps a cart in the session: add, change quantity, remove", async () => {
    const visitor = new Visitor();
    expect((await visitor.post("/cart", { product: "mug" })).status).toBe(303);
    await visitor.post("/cart", { product: "mug" });
    let cart = await visitor.page("/cart");
    expect(cart).toContain("Stoneware mug × 2");
    expect(cart).toContain("Stoneware mug: 2 in your cart");
    await visitor.post("/cart", { product: "bowl", quantity: "3" });
    expect(await visitor.page("/cart")).toContain("Glazed bowl × 3");
    await visitor.post("/cart", { product: "mug", quantity: "0" });
    cart = await visitor.page("/cart");
    expect(cart).not.toContain("Stoneware mug ×");
    expect(cart).toContain("Cart (3)");
  });

  it("refuses a product that does not exist and a bad quantity", async () => {
    const visitor = new Visitor();
    expect((await visitor.post("/cart", { product: "<script>" })).status).toBe(400);
    expect((await visitor.post("/cart", { product: "mug", quantity: "-1" })).status).toBe(400);
  });

  it("logs in with the demo account, keeps the cart, and logout ends the session", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "vase" });
    const before = visitor.cookie;
    expect((await visitor.post("/login", { email: "demo@kiln.dev", password: "wrong" })).status).toBe(401);
    const login = await visitor.post("/login", { email: "demo@kiln.dev", password: "kiln-demo-password" });
    expect(login.status).toBe(303);
    expect(visitor.cookie).not.toBe(before);
    const home = await visitor.page("/");
    expect(home).toContain("Signed in as demo@kiln.dev");
    expect(home).toContain("Welcome back!");
    expect(home).toContain("Cart (1)");
    await visitor.post("/logout", {});
    expect(visitor.cookie).toBe("kiln_session=");
    const after = await visitor.page("/");
    expect(after).toContain("Log in");
    expect(after).toContain("Cart (0)");
  });
});

describe("the demo's members area and static files", () => {
  it("sends a visitor who is not logged in to the login page, for pages and downloads alike", async () => {
    const visitor = new Visitor();
    for (const path of ["/members", "/members/glaze-recipes.txt"]) {
      const res = await visitor.request(path);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/login");
    }
  });

  it("serves the members' page and download after login", async () => {
    const visitor = new Visitor();
    await visitor.post("/login", { email: "demo@kiln.dev", password: "kiln-demo-password" });
    expect(await visitor.page("/members")).toContain("glaze recipes");
    const download = await visitor.request("/members/glaze-recipes.txt");
    expect(download.status).toBe(200);
    expect(await download.text()).toContain("Celadon");
  });

  it("serves CSS and images without the Worker, and its own 404 page to browsers", async () => {
    expect((await app.fetch("/style.css")).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await app.fetch("/img/kiln.svg")).headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const missing = await app.fetch("/no-such-pot", { headers: { accept: "text/html" } });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("This page is not on the shelf");
  });
});

describe("the demo's catalog", () => {
  it("answers a browser's revalidation with 304 and is served from the edge cache the second time", async () => {
    const first = await app.fetch("/products?demo=1");
    expect(first.status).toBe(200);
    expect(await first.text()).toContain("Raku vase");
    expect(first.headers.get("cache-control")).toBe("must-revalidate, max-age=0, s-maxage=300");
    const etag = first.headers.get("etag")!;
    const second = await app.fetch("/products?demo=1");
    expect(second.headers.get("x-kiln-cache")).toBe("HIT");
    const revalidated = await app.fetch("/products?demo=1", { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(304);
  });

  it("has a page per product, and a real 404 for an unknown one", async () => {
    expect(await (await app.fetch("/products/vase")).text()).toContain("$65");
    for (let i = 0; i < 2; i++) {
      const missing = await app.fetch("/products/teapot");
      expect(missing.status).toBe(404);
      expect(missing.headers.get("x-kiln-cache")).toBeNull(); // a 404 is never stored
      expect(await missing.text()).toContain("No such product");
    }
  });
});

describe("the demo's accounts", () => {
  it("signs up with a PBKDF2-hashed password in KV, then logs in with it", async () => {
    const visitor = new Visitor();
    const signup = await visitor.post("/signup", { email: "Ada@Example.com", password: "correct horse" });
    expect(signup.status).toBe(303);
    expect(await visitor.page("/")).toContain("Signed in as ada@example.com");
    const record = JSON.parse((await (await app.mf.getKVNamespace("USERS")).get("user:ada@example.com", "text"))!);
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain("correct horse");
    const again = new Visitor();
    expect((await again.post("/login", { email: "ada@example.com", password: "wrong horse" })).status).toBe(401);
    expect((await again.post("/login", { email: "ada@example.com", password: "correct horse" })).status).toBe(303);
  });

  it("refuses a taken email, a bad email and a short password", async () => {
    const visitor = new Visitor();
    await visitor.post("/signup", { email: "bob@example.com", password: "long enough" });
    expect((await new Visitor().post("/signup", { email: "BOB@example.com", password: "another one" })).status).toBe(409);
    expect((await new Visitor().post("/signup", { email: "not-an-email", password: "long enough" })).status).toBe(400);
    expect((await new Visitor().post("/signup", { email: "carl@example.com", password: "short" })).status).toBe(400);
  });
});

describe("the demo's JSON API", () => {
  const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("lists and shows products, 404 for an unknown one, 405 for a method it lacks", async () => {
    const list = (await (await app.fetch("/api/products")).json()) as { id: string }[];
    expect(list.map((p) => p.id)).toEqual(expect.arrayContaining(["mug", "bowl", "vase"]));
    expect(await (await app.fetch("/api/products/mug")).json()).toEqual({ id: "mug", name: "Stoneware mug", price: 18 });
    expect((await app.fetch("/api/products/teapot")).status).toBe(404);
    const put = await app.fetch("/api/products/mug", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("creates a product with 201, and answers a bad body with 400", async () => {
    const created = await app.fetch("/api/products", json({ id: "teapot", name: "Ash-glazed teapot", price: 80 }));
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/api/products/teapot");
    expect((await app.fetch("/api/products/teapot")).status).toBe(200);
    expect((await app.fetch("/api/products", json({ id: "teapot", name: "Again", price: 1 }))).status).toBe(409);
    for (const bad of [{ id: "Bad Id", name: "x", price: 1 }, { id: "cup", name: "", price: 1 }, { id: "cup", name: "Cup", price: -5 }, [1, 2]]) {
      const res = await app.fetch("/api/products", json(bad));
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
    const notJson = await app.fetch("/api/products", { method: "POST", body: "{oops" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "the body is not JSON" });
  });

  it("answers 404 for an id longer than a KV key may be, never 500", async () => {
    const long = "a".repeat(600);
    expect((await app.fetch(`/products/${long}`)).status).toBe(404);
    expect((await app.fetch(`/api/products/${long}`)).status).toBe(404);
    const visitor = new Visitor();
    expect((await visitor.post("/cart", { product: long })).status).toBe(400);
    expect((await visitor.post("/login", { email: `${long}@example.com`, password: "whatever-it-is" })).status).toBe(401);
  });

  it.each([
    ["JSON", "application/json", '{"email":"a@b.c"}'],
    ["text/plain", "text/plain", "email=a@b.c"],
    ["multipart without a boundary", "multipart/form-data", "--x\r\n"],
    ["a cut-off multipart upload", "multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b'],
  ])("answers 400 to a body that is not the form it expects (%s), never 500", async (_, type, body) => {
    for (const path of ["/login", "/signup", "/cart"]) {
      const res = await app.fetch(path, { method: "POST", headers: { "content-type": type }, body });
      expect(res.status, path).toBe(400);
    }
  });

  it("has an about page in the shared layout", async () => {
    const about = await (await app.fetch("/about")).text();
    expect(about).toContain("<h1>About</h1>");
    expect(about).toContain('class="brand"');
  });
});
