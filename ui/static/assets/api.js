// Talking to the replica that served the app: JSON calls with the ACL token
// (when one was given), the logs websocket, downloads, and the token's role.

const tokenKey = "shoal.token";

export class APIError extends Error {
  constructor(status, body, fallback) {
    super((body && body.Message) || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.Code;
    this.hint = body && body.Hint;
    this.body = body;
  }
}

export function token() { return sessionStorage.getItem(tokenKey) || ""; }
export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t);
  else sessionStorage.removeItem(tokenKey);
  roleCache = null;
}

// askToken is set by the app: it shows the sign-in dialog and resolves once
// the user gave a token.
let askToken = null;
export function onUnauthenticated(fn) { askToken = fn; }
let pendingAsk = null;

function headers(extra) {
  const hdr = { Accept: "application/json", ...extra };
  const t = token();
  if (t) hdr.Authorization = "Bearer " + t;
  return hdr;
}

// call makes one API request and returns the parsed JSON body. A 401 asks
// for a token (once, shared by every call waiting) and retries.
export async function call(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, headers: headers(opts.headers), signal: opts.signal };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers["Content-Type"] = opts.contentType || "application/json";
    }
    const resp = await fetch(path, init);
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (resp.status === 401 && askToken && attempt < 3) {
      pendingAsk = pendingAsk || askToken(data && data.Message).finally(() => { pendingAsk = null; });
      await pendingAsk;
      continue;
    }
    if (!resp.ok) throw new APIError(resp.status, data, text.slice(0, 200));
    return data;
  }
}

export const get = (path, opts) => call("GET", path, undefined, opts);

// q builds a query string from an object, leaving out empty values.
export function q(params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? "?" + s : "";
}

// logsSocket opens the job's logs stream. Browsers cannot set headers on a
// websocket, so the token travels as access_token, as the API allows.
export function logsSocket(jobID, params) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const p = { ...params };
  if (token()) p.access_token = token();
  return new WebSocket(`${proto}//${location.host}/api/v1/orchestrator/jobs/${encodeURIComponent(jobID)}/logs${q(p)}`);
}

// download fetches with the token and saves the answer as a file: a plain
// link could not carry the Authorization header.
export async function download(path, filename) {
  const resp = await fetch(path, { headers: headers() });
  if (!resp.ok) {
    let body = null;
    try { body = await resp.json(); } catch { /* not JSON */ }
    throw new APIError(resp.status, body);
  }
  const blob = await resp.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

// role returns the token's role, or "management" when ACLs are off (every
// action is allowed then). Actions the role cannot do are hidden. Without a
// token, a read that succeeds says ACLs are off; only a 401 asks for one.
let roleCache = null;
export function role() {
  if (!roleCache) {
    roleCache = (async () => {
      if (!token()) {
        const probe = await fetch("/api/v1/agent/node", { headers: { Accept: "application/json" } });
        if (probe.status !== 401) return { role: "management", acl: false };
      }
      try {
        const self = await call("GET", "/api/v1/acl/token/self");
        return { role: (self && self.Role) || "read", acl: true, name: self && self.Name, namespace: self && self.Namespace };
      } catch (e) {
        if (e.status === 404 || e.status === 405) return { role: "management", acl: false };
        if (!token()) return { role: "management", acl: false };
        return { role: "read", acl: true };
      }
    })();
  }
  return roleCache;
}

export function canSubmit(r) { return r.role === "submit" || r.role === "management"; }
