// A node: identity, connection, labels, engines, capacity used against
// free, and the executions placed on it.
import { h, replace, idView, table, panel, problem, connectionBadge, labelChips, meter, fmtBytes, fmtCPU, execStateBadge, timeView } from "../dom.js";
import { get } from "../api.js";

export async function render(root, ctx) {
  const id = ctx.params[0];
  document.title = `Node ${id} · Shoal`;
  const body = h("div");
  const flash = h("div");
  replace(root, flash, body);
  let timer = null, stopped = false;

  async function load() {
    try {
      const [resp, execs] = await Promise.all([
        get(`/api/v1/orchestrator/nodes/${encodeURIComponent(id)}`),
        get(`/api/v1/ui/nodes/${encodeURIComponent(id)}/executions`).catch(() => ({ Executions: [] })),
      ]);
      if (stopped || !ctx.gen()) return;
      replace(flash);
      draw(body, resp.Node, execs.Executions || [], execs.NextToken);
    } catch (e) {
      if (stopped) return;
      replace(flash, problem(e));
    }
    if (!stopped) timer = setTimeout(load, 3000);
  }
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

function draw(body, n, execs, truncated) {
  document.title = `Node ${n.NodeID} · Shoal`;
  const c = n.ComputeNodeInfo;
  const used = (k) => Math.max(0, (c.MaxCapacity[k] || 0) - (c.AvailableCapacity[k] || 0));
  const list = (xs) => (xs || []).length ? xs.map((x) => h("span", { class: "chip" }, x)) : h("span", { class: "muted" }, "—");
  const v = n.BacalhauVersion || {};
  replace(body,
    h("div", { class: "page-head" }, h("div", {},
      h("h1", {}, "Node ", h("span", { class: "mono title-id", id: "node-id" }, n.NodeID)),
      h("div", { class: "sub state-line" }, connectionBadge(n.Connection), h("span", {}, n.NodeType), n.Approval ? h("span", { class: "muted" }, n.Approval) : null))),
    h("div", { class: "grid two" },
      panel("Node", h("dl", { class: "kv", id: "node-info" },
        h("dt", {}, "Node ID"), h("dd", { class: "mono" }, n.NodeID),
        n.PeerInfo && n.PeerInfo.ID && n.PeerInfo.ID !== n.NodeID ? [h("dt", {}, "Peer ID"), h("dd", { class: "mono" }, n.PeerInfo.ID)] : null,
        h("dt", {}, "Addresses"), h("dd", { class: "mono" }, ((n.PeerInfo && n.PeerInfo.Addrs) || []).join(" ") || "—"),
        h("dt", {}, "Connection"), h("dd", {}, connectionBadge(n.Connection)),
        h("dt", {}, "Labels"), h("dd", {}, labelChips(n.Labels)),
        c ? [h("dt", {}, "Engines"), h("dd", { id: "node-engines" }, list(c.ExecutionEngines)),
          h("dt", {}, "Publishers"), h("dd", {}, list(c.Publishers)),
          h("dt", {}, "Storage"), h("dd", {}, list(c.StorageSources))] : null,
        h("dt", {}, "Version"), h("dd", {}, v.GitVersion || "—"))),
      c ? panel("Capacity", h("dl", { class: "kv", id: "node-capacity" },
        h("dt", {}, "CPU"), h("dd", {}, meter(used("CPU"), c.MaxCapacity.CPU || 0, fmtCPU)),
        h("dt", {}, "Memory"), h("dd", {}, meter(used("Memory"), c.MaxCapacity.Memory || 0, fmtBytes)),
        h("dt", {}, "Disk"), h("dd", {}, meter(used("Disk"), c.MaxCapacity.Disk || 0, fmtBytes)),
        h("dt", {}, "GPU"), h("dd", {}, meter(used("GPU"), c.MaxCapacity.GPU || 0, String)),
        h("dt", {}, "Executions"), h("dd", { id: "node-running" }, `${c.RunningExecutions} running · ${c.EnqueuedExecutions} queued`))) : panel("Capacity", h("p", { class: "empty" }, "Not a compute node."))),
    panel(h("span", {}, "Executions on this node ", h("span", { class: "muted" }, truncated ? `latest ${execs.length}` : String(execs.length))),
      h("div", { id: "node-executions" }, table([
        ["Execution", (e) => idView(e.ID)],
        ["Job", (e) => idView(e.JobID, `/ui/jobs/${encodeURIComponent(e.JobID)}`)],
        ["State", (e) => execStateBadge(e.ComputeState.StateType)],
        ["Created", (e) => timeView(e.CreateTime)],
        ["Updated", (e) => timeView(e.ModifyTime)],
      ], execs, "No executions on this node."))));
}
