// DOM building and formatting helpers. Everything is built with
// createElement and text nodes, never innerHTML, so no API string is ever
// parsed as markup.

// h builds an element: h("a", {href: "/ui/"}, "text", child, [more]).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

const svgNS = "http://www.w3.org/2000/svg";
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

// replace swaps the element's children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// shortID is upstream's short form: a one-letter prefix, a dash and 8
// characters (j-1a2b3c4d). IDs an operator chose (o1, worker-7) stay whole.
export function shortID(id) {
  if (!id) return "";
  const m = /^([a-z]{1,2}-)([0-9a-f]{8})[0-9a-f-]{8,}$/i.exec(id);
  if (m) return m[1] + m[2];
  if (/^[0-9a-f]{8}-[0-9a-f-]{27,}$/i.test(id)) return id.slice(0, 8);
  return id;
}

// idView shows an ID in its short form, as a link when href is given, with
// a button that shows (and selects) the full ID in place.
export function idView(id, href) {
  const short = shortID(id);
  const label = href ? h("a", { href, title: id }, short) : h("span", { title: id }, short);
  if (short === id) return h("span", { class: "id", "data-id": id }, label);
  const full = h("span", { class: "full", hidden: true }, id);
  const btn = h("button", { type: "button", title: "Show the full ID", "aria-label": "Show the full ID " + id }, "…");
  const wrap = h("span", { class: "id", "data-id": id }, label, full, btn);
  btn.addEventListener("click", (e) => {
    e.preventDefault();
    const open = full.hidden;
    full.hidden = !open;
    label.hidden = open;
    btn.textContent = open ? "×" : "…";
    if (open) {
      const r = document.createRange();
      r.selectNodeContents(full);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
    }
  });
  return wrap;
}

const jobStateClass = { Pending: "warn", Running: "run", Completed: "ok", Failed: "bad", Stopped: "" };
export function jobStateBadge(name) {
  return h("span", { class: "badge " + (jobStateClass[name] ?? ""), "data-state": name }, name || "Undefined");
}

// Execution compute states are numbers on the wire, as upstream's.
export const execStates = ["Undefined", "New", "AskForBid", "AskForBidAccepted", "AskForBidRejected",
  "BidAccepted", "BidRejected", "Completed", "Failed", "Cancelled"];
export const execDesired = ["Pending", "Running", "Stopped"];
export function execStateName(v) { return typeof v === "number" ? (execStates[v] ?? String(v)) : String(v); }
export function execStateBadge(v) {
  const name = execStateName(v);
  const cls = { Completed: "ok", Failed: "bad", BidRejected: "bad", AskForBidRejected: "bad", Cancelled: "",
    BidAccepted: "run", AskForBidAccepted: "run", AskForBid: "warn", New: "warn" }[name] ?? "";
  return h("span", { class: "badge " + cls, "data-state": name }, name);
}
export function execTerminal(v) {
  return ["Completed", "Failed", "Cancelled", "BidRejected", "AskForBidRejected"].includes(execStateName(v));
}

export function connectionBadge(c) {
  const cls = c === "CONNECTED" ? "ok" : c === "DISCONNECTED" ? "bad" : "";
  return h("span", { class: "badge " + cls }, c || "unknown");
}

// Times on the wire are Unix nanoseconds (jobs, executions) or RFC 3339
// strings (history).
export function toDate(t) {
  if (typeof t === "number") return t > 1e14 ? new Date(t / 1e6) : new Date(t * 1000);
  return t ? new Date(t) : null;
}
export function fmtTime(t) {
  const d = toDate(t);
  if (!d || isNaN(d) || d.getTime() <= 0) return "—";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
export function timeView(t) {
  const d = toDate(t);
  if (!d || isNaN(d) || d.getTime() <= 0) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: d.toISOString(), title: d.toISOString() }, ago(d));
}
export function ago(d) {
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 0) return fmtTime(d);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return fmtTime(d);
}
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || isNaN(ms)) return "—";
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60000)}m${Math.round((ms % 60000) / 1000)}s`;
}
export function fmtBytes(n) {
  if (!n) return "0";
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}
export function fmtCPU(c) { return c ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : "0"; }

// meter shows used of total, with the free amount in words.
export function meter(used, total, fmt) {
  const pct = total > 0 ? Math.min(100, Math.max(0, (used / total) * 100)) : 0;
  const bar = h("span");
  bar.style.width = pct.toFixed(1) + "%";
  return h("div", {},
    h("div", { class: "meter" + (pct >= 90 ? " hot" : ""), role: "meter", "aria-valuenow": pct.toFixed(0), "aria-valuemin": 0, "aria-valuemax": 100 }, bar),
    h("div", { class: "meter-label" }, `${fmt(used)} used · ${fmt(Math.max(0, total - used))} free of ${fmt(total)}`));
}

export function labelChips(labels) {
  const keys = Object.keys(labels || {}).sort();
  if (!keys.length) return h("span", { class: "muted" }, "—");
  return keys.map((k) => h("span", { class: "chip" }, `${k}=${labels[k]}`));
}

// table builds a table that turns into cards at phone width; each column is
// [heading, cell(row), className].
export function table(cols, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty || "Nothing here.");
  return h("div", { class: "table-wrap" }, h("table", { class: "cards" },
    h("thead", {}, h("tr", {}, cols.map(([t, , cls]) => h("th", { class: cls }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map(([t, f, cls]) => h("td", { class: cls, "data-label": t }, h("div", { class: "cell" }, f(r)))))))));
}

export function panel(title, ...children) {
  return h("section", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
}

export function problem(err) {
  return h("div", { class: "problem", role: "alert" },
    h("div", {}, err.message || String(err)),
    err.code ? h("div", { class: "code" }, `${err.status || ""} ${err.code}`.trim()) : null,
    err.hint ? h("div", { class: "muted" }, err.hint) : null);
}
