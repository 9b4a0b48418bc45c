// The demo site (functions/ and public/ at the root of the repository), as a visitor uses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { startApp, type TestApp } from "./helpers/app.js";
import { navigate } from "./helpers/navigate.js";

let app: TestApp;
beforeAll(async () => {
  app = await startApp(resolve(import.meta.dirname, ".."), { bindings: { SESSION_SECRET: "demo-test-secret-at-least-32-characters" }, r2Buckets: ["PICTURES"] });
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
  /** A form post from a current browser, which says it comes from the same origin (Fetch Metadata). */
  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request(path, { method: "POST", body: new URLSearchParams(form), headers: { "sec-fetch-site": "same-origin" } });
  }
  async page(path: string): Promise<string> {
    return (await this.request(path)).text();
  }
}

/** The cart page's lines: each product's name, and the quantity in its field (the one place it shows). */
function cartOf(html: string): Record<string, number> {
  const lines = [...html.matchAll(/<li><span class="name">([^<]*)<\/span>([\s\S]*?)<\/li>/g)];
  return Object.fromEntries(lines.map(([, name, rest]) => [name, Number(/value="(\d+)" aria-label="quantity"/.exec(rest)![1])]));
}

/** The hidden fields of the form whose button says `button`, on the cart line of `name`. */
function formOf(html: string, name: string, button: string): Record<string, string> {
  const line = [...html.matchAll(/<li><span class="name">([^<]*)<\/span>([\s\S]*?)<\/li>/g)].find(([, n]) => n === name)![2];
  const form = [...line.matchAll(/<form method="post" action="\/cart"[^>]*>([\s\S]*?)<\/form>/g)].find(([, body]) => body.includes(`>${button}</button>`))![1];
  return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(([, k, v]) => [k, v]));
}

/** A visitor logged in with the demo account, which has the admin role. */
async function admin(): Promise<Visitor> {
  const visitor = new Visitor();
  await visitor.post("/login", { email: "demo@kiln.dev", password: "kiln-demo-password" });
  return visitor;
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
    expect(cartOf(cart)).toEqual({ "Stoneware mug": 2 });
    expect(cart).toContain("Stoneware mug: 2 in your cart");
    await visitor.post("/cart", { product: "bowl", quantity: "3" });
    expect(cartOf(await visitor.page("/cart"))).toEqual({ "Stoneware mug": 2, "Glazed bowl": 3 });
    await visitor.post("/cart", { product: "mug", quantity: "0" });
    cart = await visitor.page("/cart");
    expect(cartOf(cart)).toEqual({ "Glazed bowl": 3 });
    expect(cart).toContain('<a href="/cart">Cart (3)</a>');
  });

  it("has a Remove button on each cart line that takes that line out, and shows each quantity once", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "mug", quantity: "2" });
    await visitor.post("/cart", { product: "vase" });
    let cart = await visitor.page("/cart");
    for (const [, line] of cart.matchAll(/<li><span class="name">([\s\S]*?)<\/li>/g)) expect(line.replace(/<[^>]*>/g, "")).not.toMatch(/\d/); // the quantity is only in its field
    const remove = formOf(cart, "Stoneware mug", "Remove");
    expect(remove).toMatchObject({ product: "mug", quantity: "0", csrf_token: expect.any(String) });
    const removed = await visitor.post("/cart", remove);
    expect(removed.status).toBe(303);
    expect(removed.headers.get("location")).toBe("/cart");
    cart = await visitor.page("/cart");
    expect(cartOf(cart)).toEqual({ "Raku vase": 1 });
    expect(cart).toContain('<p class="notice">Removed Stoneware mug</p>');
    // A browser without Fetch Metadata sends the form's CSRF token: the last line goes too, and the cart says it is empty.
    const last = await visitor.request("/cart", { method: "POST", body: new URLSearchParams(formOf(cart, "Raku vase", "Remove")) });
    expect(last.status).toBe(303);
    cart = await visitor.page("/cart");
    expect(cartOf(cart)).toEqual({});
    expect(cart).toContain("Your cart is empty.");
    expect(cart).toContain('<a href="/cart">Cart</a>');
  });

  it("refuses a product that does not exist and a bad quantity, with the error beside the field", async () => {
    const visitor = new Visitor();
    const unknown = await visitor.post("/cart", { product: "<script>" });
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain('<p class="error" id="product-error">No such product.</p>');
    expect((await visitor.post("/cart", { product: "teapot-that-is-not-there" })).status).toBe(422);
    await visitor.post("/cart", { product: "mug" });
    for (const quantity of ["-1", "100", "1.5", ""]) {
      const bad = await visitor.post("/cart", { product: "mug", quantity });
      expect(bad.status, quantity).toBe(422);
      const page = await bad.text();
      expect(page).toContain(`value="${quantity}" aria-label="quantity" aria-invalid="true" aria-describedby="quantity-error-mug"><button>Update</button>`);
      expect(page).toContain('<span class="error" id="quantity-error-mug">Enter a whole number from 0 to 99.</span>');
    }
    expect(cartOf(await visitor.page("/cart"))).toEqual({ "Stoneware mug": 1 });
  });

  it("checks the session's CSRF token on the cart's forms when the browser sends no Fetch Metadata", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "mug" });
    const old = (form: Record<string, string>) => visitor.request("/cart", { method: "POST", body: new URLSearchParams(form) });
    expect((await old({ product: "bowl" })).status).toBe(403);
    const token = /name="csrf_token" value="([^"]+)"/.exec(await visitor.page("/"))![1];
    expect((await old({ product: "bowl", csrf_token: token })).status).toBe(303);
    expect(cartOf(await visitor.page("/cart"))).toEqual({ "Stoneware mug": 1, "Glazed bowl": 1 });
    expect(await new Visitor().page("/")).not.toContain("csrf_token"); // no session, no token: looking starts no session
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
    expect(after).toContain('<a href="/cart">Cart</a>');
  });
});

describe("the demo's members area and static files", () => {
  it("sends a browser that is not logged in to the login page and back, for pages and downloads alike; a script gets 401", async () => {
    for (const path of ["/members", "/members/glaze-recipes.txt"]) {
      const res = await navigate(app, path);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
      expect((await new Visitor().request(path)).status).toBe(401); // Node's fetch says Sec-Fetch-Mode: cors, as a script's fetch() does
    }
    const form = await navigate(app, "/login?next=%2Fmembers");
    expect(form.body).toContain("Please log in to see that page.");
    expect(form.body).toContain('action="/login?next=%2Fmembers"');
    const visitor = new Visitor();
    const login = await visitor.post("/login?next=%2Fmembers", { email: "demo@kiln.dev", password: "kiln-demo-password" });
    expect(login.headers.get("location")).toBe("/members");
    expect((await visitor.post("/login?next=%2F%2Fevil.example", { email: "demo@kiln.dev", password: "kiln-demo-password" })).headers.get("location")).toBe("/");
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

describe("the demo's header, the same on every page", () => {
  const headerOf = (html: string) => /<header>[\s\S]*?<\/header>/.exec(html)?.[0];
  const headOf = (html: string) => /<head>[\s\S]*?<\/head>/.exec(html)![0];

  it("is the layout's on the cached pages and on the static 404 and 500 pages, with the site's stylesheet", async () => {
    const home = await navigate(app, "/");
    const header = headerOf(home.body)!;
    expect(header).toContain('<a href="/login">Log in</a>');
    for (const path of ["/products", "/products/mug", "/products/teapot", "/about", "/login", "/no-such-pot", "/500"]) {
      const page = await navigate(app, path);
      expect(headerOf(page.body), path).toBe(header);
      expect(headOf(page.body), path).toContain('<link rel="stylesheet" href="/style.css">');
      expect(headOf(page.body), path).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    }
    expect((await navigate(app, "/no-such-pot")).status).toBe(404);
  });

  it("is this visitor's on every page: the pages the same for everyone load it from /header", async () => {
    const visitor = await admin();
    await visitor.post("/cart", { product: "mug", quantity: "2" });
    const header = headerOf(await visitor.page("/"))!;
    expect(header).toContain("Signed in as demo@kiln.dev");
    expect(header).toContain('<a href="/admin">Admin</a>');
    expect(header).toContain('<a href="/cart">Cart (2)</a>');
    expect((await visitor.page("/header")).trim()).toBe(header);
    for (const path of ["/cart", "/about", "/members", "/admin", "/admin/products/mug/picture", "/admin/products/teapot/picture"]) expect(headerOf(await visitor.page(path)), path).toBe(header);
    const fragment = await visitor.request("/header");
    expect(fragment.headers.get("cache-control")).toBe("private, no-store");
    // The cached catalog and the static pages show the plain header, and ask /header for this one.
    for (const path of ["/products", "/no-such-pot", "/500"]) {
      const body = await (await visitor.request(path, { headers: { accept: "text/html" } })).text();
      expect(headerOf(body), path).toBe(headerOf((await navigate(app, "/")).body));
      expect(headOf(body), path).toContain('<script src="/header.js" defer></script>');
    }
    const plain = await app.fetch("/header");
    expect((await plain.text()).trim()).toBe(headerOf((await navigate(app, "/")).body));
    expect(plain.headers.has("set-cookie")).toBe(false); // asking starts no session
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
    expect(record.hash).toMatch(/^\$pbkdf2-sha256\$i=100000\$/);
    expect(record.roles).toEqual([]);
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

describe("the demo's roles and throttling", () => {
  it("has an admin page that only the admin role reaches; the demo account has it", async () => {
    expect((await navigate(app, "/admin")).headers.location).toBe("/login?next=%2Fadmin");
    const user = new Visitor();
    await user.post("/signup", { email: `not-admin-${Date.now()}@example.com`, password: "long enough" });
    expect((await user.request("/admin")).status).toBe(403);
    expect(await user.page("/")).not.toContain('href="/admin"');
    const demo = await admin();
    expect(await demo.page("/")).toContain('<a href="/admin">Admin</a>');
    const page = await (await demo.request("/admin")).text();
    expect(page).toContain("<h1>Admin</h1>");
    expect(page).toContain("<td>demo@kiln.dev</td><td>admin</td>");
  });

  it("keeps the API's writes for the admin role: 401 for a client that is not logged in, 403 for a user without it", async () => {
    const post = (cookie: string) =>
      app.fetch("/api/products", { method: "POST", headers: { "content-type": "application/json", accept: "application/json", cookie }, body: '{"id":"jug","name":"Jug","price":30}' });
    const anonymous = await post("");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "Unauthorized: log in first", status: 401 });
    const user = new Visitor();
    await user.post("/signup", { email: `api-user-${Date.now()}@example.com`, password: "long enough" });
    expect((await post(user.cookie)).status).toBe(403);
    expect((await app.fetch("/api/products/jug")).status).toBe(404);
  });

  it("throttles password guessing per account: of 22 wrong passwords at once, 20 are checked, 2 get 429 with Retry-After", async () => {
    const email = `guessed-${Date.now()}@example.com`;
    await new Visitor().post("/signup", { email, password: "the real one" });
    const answers = await Promise.all(Array.from({ length: 22 }, () => new Visitor().post("/login", { email, password: "a guess" })));
    expect(answers.filter((r) => r.status === 401)).toHaveLength(20);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(2);
    expect(Number(refused[0].headers.get("retry-after"))).toBeGreaterThan(800);
    expect(await refused[0].text()).toContain("Too many attempts. Please wait a few minutes.");
    expect((await new Visitor().post("/login", { email, password: "the real one" })).status).toBe(429);
  });
});

describe("the demo's product pictures, in R2", () => {
  const png = (size: number) => new Uint8Array(size).map((_, i) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a][i] ?? i % 256);

  /** The upload form, posted with one file as a browser does. */
  async function upload(visitor: Visitor, file?: File) {
    const form = new FormData();
    if (file) form.append("picture", file);
    else form.append("picture", new File([], "", { type: "application/octet-stream" })); // the file input left empty
    const request = new Request("http://x/", { method: "POST", body: form });
    const headers = { "content-type": request.headers.get("content-type")!, "sec-fetch-site": "same-origin" };
    return visitor.request("/admin/products/bowl/picture", { method: "POST", body: await request.arrayBuffer(), headers });
  }

  it("lets the admin upload a product's picture to R2; the product page shows it", async () => {
    const visitor = await admin();
    expect(await visitor.page("/admin/products/bowl/picture")).toContain('<form method="post" enctype="multipart/form-data" class="upload">');
    const bytes = png(30_000);
    const saved = await upload(visitor, new File([bytes], "bowl.png", { type: "image/png" }));
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/products/bowl");
    const picture = await app.fetch("/products/bowl/picture");
    expect(picture.headers.get("content-type")).toBe("image/png");
    expect(picture.headers.get("x-content-type-options")).toBe("nosniff");
    expect(new Uint8Array(await picture.arrayBuffer())).toEqual(bytes);
    expect(await (await app.fetch("/products/bowl")).text()).toContain('<img src="/products/bowl/picture" alt="Glazed bowl" width="240">');
    expect((await app.fetch("/products/mug/picture")).status).toBe(404);
  });

  it.each([
    ["no file", undefined, 422, "Choose a picture."],
    ["an SVG", new File(["<svg onload=alert(1)>"], "x.svg", { type: "image/svg+xml" }), 422, "A PNG, JPEG, GIF or WebP picture, please."],
    ["text named .png", new File(["just text"], "x.png", { type: "image/png" }), 422, "That file is not the image/png picture its name says."],
    ["a picture over 2 MB", new File([png(2_000_001)], "big.png", { type: "image/png" }), 413, "The picture is over 2 MB."],
  ])("refuses %s, with the reason beside the field", async (_, file, status, message) => {
    const res = await upload(await admin(), file);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(`<p class="error" id="picture-error">${message}</p>`);
  });
});

describe("the demo's JSON API", () => {
  const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) });

  it("lists and shows products, 404 for an unknown one, 405 for a method it lacks", async () => {
    const list = (await (await app.fetch("/api/products")).json()) as { id: string }[];
    expect(list.map((p) => p.id)).toEqual(expect.arrayContaining(["mug", "bowl", "vase"]));
    expect(await (await app.fetch("/api/products/mug")).json()).toEqual({ id: "mug", name: "Stoneware mug", price: 18 });
    expect((await app.fetch("/api/products/teapot")).status).toBe(404);
    const put = await app.fetch("/api/products/mug", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("creates a product with 201, and answers a bad body with 422 and the errors per field", async () => {
    const api = await admin(); // adding to the catalog takes the admin role
    expect(await (await app.fetch("/products")).text()).not.toContain("Ash-glazed teapot"); // now in the edge cache
    const created = await api.request("/api/products", json({ id: "teapot", name: "Ash-glazed teapot", price: 80 }));
    expect(created.status).toBe(201);
    // Shown at once: the catalog page's cached copy was purged, and the home page lists the whole catalog.
    expect(await (await app.fetch("/products")).text()).toContain("Ash-glazed teapot");
    expect(await (await app.fetch("/")).text()).toContain("Ash-glazed teapot");
    expect(created.headers.get("location")).toBe("/api/products/teapot");
    expect((await app.fetch("/api/products/teapot")).status).toBe(200);
    expect((await api.request("/api/products", json({ id: "teapot", name: "Again", price: 1 }))).status).toBe(409);
    const cases: [unknown, Record<string, string[]>][] = [
      [{ id: "Bad Id", name: "x", price: 1 }, { id: ["id must be 1 to 40 lowercase letters, digits or dashes"] }],
      [{ id: "cup", name: " ", price: 1 }, { name: ["name must not be empty"] }],
      [{ id: "cup", name: "Cup", price: -5 }, { price: ["price must be positive"] }],
      [{ id: "cup", name: "Cup", price: "5" }, { price: ["price must be a number"] }],
      [[1, 2], { id: [expect.any(String)], name: [expect.any(String)], price: [expect.any(String)] }],
    ];
    for (const [bad, errors] of cases) {
      const res = await api.request("/api/products", json(bad));
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({ error: "Unprocessable Content: the input is not valid", status: 422, errors });
    }
    const notJson = await api.request("/api/products", { method: "POST", body: "{oops", headers: { "content-type": "application/json", accept: "application/json" } });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "Bad Request: the body is not valid JSON", status: 400 });
    const untyped = await api.request("/api/products", { method: "POST", body: "{}", headers: { accept: "application/json" } });
    expect(await untyped.json()).toEqual({ error: "Unsupported Media Type: expected application/json", status: 415 });
  });

  it("answers 404 for an id longer than a KV key may be, never 500", async () => {
    const long = "a".repeat(600);
    expect((await app.fetch(`/products/${long}`)).status).toBe(404);
    expect((await app.fetch(`/api/products/${long}`)).status).toBe(404);
    const visitor = new Visitor();
    expect((await visitor.post("/cart", { product: long })).status).toBe(422);
    expect((await visitor.post("/login", { email: `${long}@example.com`, password: "whatever-it-is" })).status).toBe(401);
  });

  it.each([
    ["JSON", "application/json", '{"email":"a@b.c"}', 415],
    ["text/plain", "text/plain", "email=a@b.c", 415],
    ["multipart without a boundary", "multipart/form-data", "--x\r\n", 400],
    ["a cut-off multipart upload", "multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b', 400],
  ])("answers a body that is not the form it expects (%s) with a 4xx, never 500", async (_, type, body, status) => {
    // context.form() tells a wrong type (415) from a broken form (400).
    for (const [path, expected] of [["/cart", status], ["/login", status], ["/signup", status]] as const) {
      const res = await app.fetch(path, { method: "POST", headers: { "content-type": type }, body });
      expect(res.status, path).toBe(expected);
    }
  });

  it("has an about page in the shared layout", async () => {
    const about = await (await app.fetch("/about")).text();
    expect(about).toContain("<h1>About</h1>");
    expect(about).toContain('class="brand"');
  });
});

describe("the demo's checkout: stock in a Durable Object, orders through a queue, a nightly restock", () => {
  const stock = async (product: string) => ((await (await app.fetch(`/api/stock/${product}`)).json()) as { left: number }).left;
  const nightly = async () => expect((await (await app.mf.getWorker()).scheduled({ cron: "0 3 * * *" })).outcome).toBe("ok");

  /** Polls the order page until the queue's consumer has recorded the order. */
  async function recorded(visitor: Visitor, location: string): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const page = await visitor.page(location);
      if (page.includes("<h1>Your order</h1>")) return page;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${location}: the order was never recorded`);
  }

  it("takes the stock, sends the order to the queue, and shows it once the consumer recorded it with its confirmation email", async () => {
    const visitor = new Visitor();
    expect(await stock("bowl")).toBe(5);
    await visitor.post("/cart", { product: "bowl", quantity: "2" });
    expect(await visitor.page("/cart")).toContain('<form method="post" action="/checkout">');
    const checkout = await visitor.post("/checkout", {});
    expect(checkout.status).toBe(303);
    const location = checkout.headers.get("location")!;
    expect(location).toMatch(/^\/orders\/[0-9a-f-]{36}$/);
    const page = await recorded(visitor, location);
    expect(page).toContain("<li>Glazed bowl × 2: $48</li>");
    expect(page).toContain("Thank you for your order from the kiln demo shop:</p>");
    expect(page).toContain('<a href="/cart">Cart</a>'); // the cart is empty: no count
    expect(await stock("bowl")).toBe(3);
  });

  it("says so for an empty cart, and an order not recorded yet reloads itself", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "bowl", quantity: "0" });
    expect((await visitor.post("/checkout", {})).headers.get("location")).toBe("/cart");
    expect(await visitor.page("/cart")).toContain("Your cart is empty.</p>");
    const unknown = await app.fetch("/orders/00000000-0000-4000-8000-000000000000");
    expect(unknown.headers.get("refresh")).toBe("2");
    expect(await unknown.text()).toContain("No order is recorded under this number yet.");
  });

  it("gives the last vase to one of two buyers who check out at once", async () => {
    const first = new Visitor();
    await first.post("/cart", { product: "vase", quantity: "4" });
    await first.post("/checkout", {});
    expect(await stock("vase")).toBe(1);
    const [a, b] = [new Visitor(), new Visitor()];
    await a.post("/cart", { product: "vase" });
    await b.post("/cart", { product: "vase" });
    const answers = await Promise.all([a.post("/checkout", {}), b.post("/checkout", {})]);
    const locations = answers.map((r) => r.headers.get("location")!).sort();
    expect(locations[0]).toBe("/cart");
    expect(locations[1]).toMatch(/^\/orders\//);
    const loser = answers[0].headers.get("location") === "/cart" ? a : b;
    const cart = await loser.page("/cart");
    expect(cart).toContain("Sorry: Raku vase is sold out until tomorrow.");
    expect(cartOf(cart)).toEqual({ "Raku vase": 1 });
    expect(await stock("vase")).toBe(0);
  });

  it("restocks every product at night (the cron's scheduled handler)", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "mug", quantity: "5" });
    await visitor.post("/checkout", {});
    expect(await stock("mug")).toBe(0);
    await nightly();
    expect(await stock("mug")).toBe(5);
    expect(await stock("vase")).toBe(5);
  });

  it("takes a whole cart or nothing: a product short of stock gives back what was taken of the others", async () => {
    const visitor = new Visitor();
    await visitor.post("/cart", { product: "bowl" });
    await visitor.post("/cart", { product: "vase", quantity: "6" });
    expect((await visitor.post("/checkout", {})).headers.get("location")).toBe("/cart");
    expect(await visitor.page("/cart")).toContain("Sorry: only 5 × Raku vase left.");
    expect(await stock("bowl")).toBe(5);
    expect(await stock("vase")).toBe(5);
  });
});

describe("the demo's safe defaults (docs/security.md)", () => {
  it("serves its pages under a strict CSP whose nonce is on the one inline script", async () => {
    const res = await app.fetch("/");
    const csp = res.headers.get("content-security-policy")!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    expect(csp).not.toContain("unsafe-inline");
    const body = await res.text();
    expect(body.match(/<script[^>]*>/g)).toEqual([`<script nonce="${nonce}">`]);
    expect(body).not.toMatch(/ style=|<style/);
  });

  it("writes its links with url_for", async () => {
    const body = await (await app.fetch("/products")).text();
    expect(body).toContain('<a href="/products/mug">');
    expect(body).toContain('<a href="/about">About</a>');
  });

  it("answers its API's preflights for the configured origin only", async () => {
    const ask = (origin: string) =>
      app.fetch("/api/products", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const allowed = await ask("http://localhost:5173");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(allowed.headers.get("access-control-allow-methods")).toBe("GET, POST, HEAD, OPTIONS");
    expect((await ask("https://evil.example")).status).toBe(403);
    const real = await app.fetch("/api/time", { headers: { origin: "http://localhost:5173" } });
    expect(real.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(real.headers.get("vary")).toContain("Origin");
  });
});
