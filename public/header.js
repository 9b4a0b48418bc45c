// The pages that are the same for everyone (the catalog, kept in the edge
// cache, and the static 404 and 500 pages) show the header of a visitor who is
// not logged in. This puts in this visitor's own, rendered by /header from the
// same templates/header.html: the cart's count, who is signed in, the admin link.
const header = document.querySelector("header");
fetch("/header", { headers: { accept: "text/html" } })
  // The body is read even when it is not used: an unread one keeps the request open.
  .then((response) => response.text().then((html) => (response.ok ? html.trim() : "")))
  .then((html) => {
    if (header && html.startsWith("<header>")) header.outerHTML = html;
  })
  .catch(() => {}); // offline, or the Worker failed: the plain header stays
