// Jobs: filter by state, namespace and label selector; order, reverse and
// page with next_token; refreshed every three seconds. The filters live in
// the URL, so a filtered list can be shared and reloaded.
import { h, replace, idView, table, problem, jobStateBadge, labelChips, timeView } from "../dom.js";
import { get, q, role, canSubmit } from "../api.js";

const states = ["", "Pending", "Running", "Completed", "Failed", "Stopped"];
const orders = [["create_time", "Created"], ["modify_time", "Modified"], ["id", "ID"]];

export async function render(root, ctx) {
  document.title = "Jobs · Shoal";
  const p = ctx.query;
  const f = {
    state: p.get("state") || "", namespace: p.get("namespace") || "", labels: p.get("labels") || "",
    order_by: p.get("order_by") || "create_time", reverse: p.get("reverse") !== "false", limit: Number(p.get("limit")) || 20,
  };
  // tokens[i] is the next_token that opened page i (page 0 has none).
  let tokens = [""];
  let page = 0;
  let timer = null, stopped = false, lastKey = "";

  const sel = (name, options, value) => h("select", { name }, options.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
  const form = h("form", { class: "filters", id: "job-filters" },
    h("label", {}, "State", sel("state", states.map((s) => [s, s || "Any state"]), f.state)),
    h("label", {}, "Namespace", h("input", { name: "namespace", value: f.namespace, placeholder: "all" })),
    h("label", {}, "Labels", h("input", { name: "labels", value: f.labels, placeholder: "team=data,env!=dev" })),
    h("label", {}, "Order by", sel("order_by", orders, f.order_by)),
    h("label", { class: "inline" }, h("input", { type: "checkbox", name: "reverse", checked: f.reverse }), "Newest first"),
    h("label", {}, "Per page", sel("limit", [["10", "10"], ["20", "20"], ["50", "50"], ["100", "100"]], String(f.limit))),
    h("button", { type: "submit", class: "primary" }, "Apply"));
  const auto = h("input", { type: "checkbox", checked: true, id: "auto-refresh" });
  const status = h("span", { class: "muted", id: "jobs-status" });
  const list = h("div", { id: "jobs-table" });
  const prev = h("button", { type: "button", disabled: true }, "← Previous");
  const next = h("button", { type: "button", disabled: true, id: "jobs-next" }, "Next →");
  const flash = h("div");
  const r = await role();

  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Jobs"), h("div", { class: "sub" }, "Every job in the cluster, from this replica's state.")),
      h("div", { class: "actions" }, h("label", { class: "inline" }, auto, "Auto-refresh"), canSubmit(r) ? h("a", { class: "button", href: "/ui/submit" }, "Submit a job") : null)),
    h("section", { class: "panel" }, form, flash, list, h("div", { class: "pager" }, status, prev, next)));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const params = {
      state: fd.get("state"), namespace: fd.get("namespace").trim(), labels: fd.get("labels").trim(),
      order_by: fd.get("order_by") === "create_time" ? "" : fd.get("order_by"),
      reverse: fd.get("reverse") ? "" : "false", limit: fd.get("limit") === "20" ? "" : fd.get("limit"),
    };
    ctx.navigate("/ui/jobs" + q(params));
  });
  prev.addEventListener("click", () => { if (page > 0) { page--; load(); } });
  next.addEventListener("click", () => { page++; load(); });
  auto.addEventListener("change", () => { clearTimeout(timer); if (auto.checked) timer = setTimeout(load, 3000); });

  async function load() {
    clearTimeout(timer);
    const params = { limit: f.limit, order_by: f.order_by, reverse: f.reverse, namespace: f.namespace, labels: f.labels, state: f.state, next_token: tokens[page] };
    try {
      const resp = await get("/api/v1/ui/jobs" + q(params));
      if (stopped || !ctx.gen()) return;
      const jobs = resp.Jobs || [];
      tokens = tokens.slice(0, page + 1);
      if (resp.NextToken) tokens.push(resp.NextToken);
      replace(flash);
      // Redraw only what changed, so an ID opened to its full form stays open.
      const key = page + JSON.stringify(resp);
      if (key === lastKey) { if (!stopped && auto.checked) timer = setTimeout(load, 3000); return; }
      lastKey = key;
      replace(list, table([
        ["Job", (j) => idView(j.ID, `/ui/jobs/${encodeURIComponent(j.ID)}`)],
        ["Name", (j) => j.Name === j.ID ? h("span", { class: "muted" }, "—") : j.Name],
        ["Type", (j) => j.Type],
        ["State", (j) => jobStateBadge(j.State.StateType)],
        ["Namespace", (j) => j.Namespace, "opt"],
        ["Labels", (j) => labelChips(j.Labels)],
        ["Created", (j) => timeView(j.CreateTime)],
        ["Modified", (j) => timeView(j.ModifyTime), "opt"],
      ], jobs, "No job matches."));
      prev.disabled = page === 0;
      next.disabled = !resp.NextToken;
      status.textContent = `Page ${page + 1} · ${jobs.length} job${jobs.length === 1 ? "" : "s"}`;
    } catch (e) {
      if (stopped) return;
      replace(flash, problem(e));
    }
    if (!stopped && auto.checked) timer = setTimeout(load, 3000);
  }
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}
