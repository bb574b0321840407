// The app shell: history-API routing over /ui/..., the sign-in dialog when
// ACLs are on, and the header. Each view is a module whose render(ctx)
// draws into the main element and returns a cleanup function.
import { h, replace, problem, shortID } from "./dom.js";
import * as api from "./api.js";

const routes = [
  [/^\/ui\/?$/, "overview", () => import("./views/overview.js")],
  [/^\/ui\/jobs\/?$/, "jobs", () => import("./views/jobs.js")],
  [/^\/ui\/jobs\/([^/]+)\/?$/, "jobs", () => import("./views/job.js")],
  [/^\/ui\/nodes\/?$/, "nodes", () => import("./views/nodes.js")],
  [/^\/ui\/nodes\/([^/]+)\/?$/, "nodes", () => import("./views/node.js")],
  [/^\/ui\/submit\/?$/, "submit", () => import("./views/submit.js")],
];

const view = document.getElementById("view");
let cleanup = null;
let generation = 0;

export function navigate(path, replaceState) {
  if (replaceState) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

async function render() {
  const gen = ++generation;
  if (cleanup) { try { cleanup(); } catch { /* a view's cleanup must not stop the next */ } cleanup = null; }
  const path = location.pathname;
  let match = null;
  for (const [re, nav, load] of routes) {
    const m = re.exec(path);
    if (m) { match = { nav, load, params: m.slice(1).map(decodeURIComponent) }; break; }
  }
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", !!match && a.dataset.nav === match.nav);
  if (!match) {
    document.title = "Not found · Shoal";
    replace(view, h("div", { class: "panel" }, h("h1", {}, "No such page"),
      h("p", {}, "There is nothing at ", h("code", {}, path), ". ", h("a", { href: "/ui/" }, "Go to the overview"), ".")));
    return;
  }
  try {
    const mod = await match.load();
    if (gen !== generation) return;
    const ctx = { params: match.params, query: new URLSearchParams(location.search), navigate, gen: () => gen === generation };
    const done = await mod.render(view, ctx);
    if (gen !== generation) { if (typeof done === "function") done(); return; }
    cleanup = typeof done === "function" ? done : null;
  } catch (e) {
    if (gen !== generation) return;
    replace(view, problem(e));
  }
}

// Links inside the app change the view without reloading the page.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui/") && url.pathname !== "/ui") return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});
window.addEventListener("popstate", render);

// Sign-in: with ACLs on, a 401 opens the dialog; the token stays in this
// tab's sessionStorage.
const dialog = document.getElementById("login");
const form = document.getElementById("login-form");
const input = document.getElementById("login-token");
const loginError = document.getElementById("login-error");
let resolveLogin = null;
api.onUnauthenticated((message) => new Promise((resolve) => {
  resolveLogin = resolve;
  if (api.token()) { loginError.textContent = message || "That token was refused."; loginError.hidden = false; }
  input.value = "";
  if (!dialog.open) dialog.showModal();
  input.focus();
}));
form.addEventListener("submit", (e) => {
  e.preventDefault();
  api.setToken(input.value.trim());
  loginError.hidden = true;
  dialog.close();
  if (resolveLogin) { const r = resolveLogin; resolveLogin = null; r(); }
  header();
});
dialog.addEventListener("cancel", (e) => e.preventDefault());

// The header names the replica that serves the page and its Raft role, and
// the signed-in role with a way to sign out.
const whoami = document.getElementById("whoami");
async function header() {
  try {
    const [me, r] = await Promise.all([api.get("/api/v1/ui/replica?series=false"), api.role()]);
    const roleName = me.Role.toLowerCase();
    const parts = [h("span", { id: "served-by", "data-replica": me.ID, "data-role": roleName, title: "The replica serving this page" },
      "replica ", h("b", { title: me.ID }, shortID(me.ID)), ` · ${roleName}`)];
    if (r.acl) {
      parts.push(h("span", {}, `token: ${r.role}`), h("button", { type: "button", onclick: () => { api.setToken(""); location.reload(); } }, "Sign out"));
    }
    replace(whoami, parts);
    for (const a of document.querySelectorAll("#nav a[data-needs=submit]")) a.hidden = !api.canSubmit(r);
  } catch {
    replace(whoami, h("span", {}, "replica unreachable"));
  }
}

header();
setInterval(header, 15000);
render();
