// Nodes: every node with its labels, engines, capacity, running executions
// and connection, refreshed every five seconds.
import { h, replace, idView, table, problem, connectionBadge, labelChips, meter, fmtBytes, fmtCPU } from "../dom.js";
import { get, q } from "../api.js";

export async function render(root, ctx) {
  document.title = "Nodes · Shoal";
  const list = h("div", { id: "nodes-table" });
  const flash = h("div");
  const labels = h("input", { name: "labels", placeholder: "zone=a,env!=dev", value: ctx.query.get("labels") || "" });
  const form = h("form", { class: "filters" }, h("label", {}, "Labels", labels), h("button", { type: "submit", class: "primary" }, "Apply"));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate("/ui/nodes" + q({ labels: labels.value.trim() })); });
  replace(root, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Nodes"), h("div", { class: "sub" }, "Compute nodes registered with the cluster."))),
    h("section", { class: "panel" }, form, flash, list));
  let timer = null, stopped = false, lastKey = "";

  async function load() {
    try {
      const resp = await get("/api/v1/orchestrator/nodes" + q({ limit: 500, labels: ctx.query.get("labels") || "" }));
      if (stopped || !ctx.gen()) return;
      replace(flash);
      const key = JSON.stringify(resp);
      if (key === lastKey) { if (!stopped) timer = setTimeout(load, 5000); return; }
      lastKey = key;
      const used = (n, k) => Math.max(0, (n.ComputeNodeInfo.MaxCapacity[k] || 0) - (n.ComputeNodeInfo.AvailableCapacity[k] || 0));
      const ci = (f) => (n) => n.ComputeNodeInfo ? f(n, n.ComputeNodeInfo) : h("span", { class: "muted" }, "—");
      replace(list, table([
        ["Node", (n) => idView(n.NodeID, `/ui/nodes/${encodeURIComponent(n.NodeID)}`)],
        ["Connection", (n) => connectionBadge(n.Connection)],
        ["Type", (n) => n.NodeType],
        ["Labels", (n) => labelChips(n.Labels)],
        ["Engines", ci((n, c) => (c.ExecutionEngines || []).map((e) => h("span", { class: "chip" }, e)))],
        ["CPU", ci((n, c) => meter(used(n, "CPU"), c.MaxCapacity.CPU || 0, fmtCPU))],
        ["Memory", ci((n, c) => meter(used(n, "Memory"), c.MaxCapacity.Memory || 0, fmtBytes))],
        ["Disk", ci((n, c) => meter(used(n, "Disk"), c.MaxCapacity.Disk || 0, fmtBytes))],
        ["Running", ci((n, c) => `${c.RunningExecutions} running · ${c.EnqueuedExecutions} queued`)],
      ], resp.Nodes || [], "No node matches."));
    } catch (e) {
      if (stopped) return;
      replace(flash, problem(e));
    }
    if (!stopped) timer = setTimeout(load, 5000);
  }
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}
