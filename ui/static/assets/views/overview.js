// Overview: the replicas, the compute nodes, jobs by state and the live
// charts, refreshed every two seconds.
import { h, replace, idView, table, panel, problem, connectionBadge, meter, fmtBytes, fmtCPU, fmtDuration } from "../dom.js";
import { get, q } from "../api.js";
import { lineChart } from "../chart.js";

const states = ["Pending", "Running", "Completed", "Failed", "Stopped"];

export async function render(root, ctx) {
  document.title = "Overview · Shoal";
  const body = h("div");
  const flash = h("div");
  replace(root, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Cluster overview"),
    h("div", { class: "sub", id: "overview-sub" }, "Every replica, compute node and job, as this replica sees them."))), flash, body);
  let timer = null, stopped = false;

  async function refresh() {
    try {
      const [ov, nodes] = await Promise.all([get("/api/v1/ui/overview"), get("/api/v1/orchestrator/nodes" + q({ limit: 500 }))]);
      if (stopped || !ctx.gen()) return;
      replace(flash);
      draw(body, ov, nodes.Nodes || []);
    } catch (e) {
      if (stopped) return;
      replace(flash, problem(e));
    }
    if (!stopped) timer = setTimeout(refresh, 2000);
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

function draw(body, ov, nodes) {
  const c = ov.Charts;
  replace(body,
    h("div", { class: "grid three" },
      lineChart("Creates per second", c.CreatesPerSecond, (v) => `${v.toFixed(0)}/s`, { zeroGaps: true, id: "creates" }),
      lineChart("Create latency p99", c.CreateP99Ms, fmtDuration, { color: "#7a4fb3", id: "p99" }),
      lineChart("Scheduling lag (max)", c.SchedulingLagMaxMs, fmtDuration, { color: "#b36a12", id: "lag" })),
    h("div", { class: "grid side", id: "overview-main" },
      h("div", { class: "stack" }, replicas(ov)),
      h("div", { class: "stack" }, jobCounts(ov), nodesPanel(nodes))));
}

function replicas(ov) {
  const rows = ov.Replicas || [];
  const digest = (r) => {
    if (!r.Digest) return h("span", { class: "muted" }, "—");
    const verdict = r.DigestAgrees === true ? h("span", { class: "badge ok" }, "agrees")
      : r.DigestAgrees === false ? h("span", { class: "badge bad" }, "differs")
        : h("span", { class: "badge", title: "No other replica has a digest at the same index yet" }, rows.length > 1 ? "not compared" : "single");
    return h("span", { title: `${r.Digest} at index ${r.DigestIndex}` }, verdict, " ", h("code", {}, r.Digest.slice(0, 8)), h("span", { class: "muted" }, ` @${r.DigestIndex}`));
  };
  const role = (r) => {
    const cls = r.Role === "Leader" ? "leader" : r.Role === "Follower" ? "ok" : r.Role === "Unreachable" ? "bad" : "warn";
    return h("span", {}, h("span", { class: "badge " + cls, "data-role": r.Role }, r.Role), r.Voter ? "" : h("span", { class: "muted" }, " non-voter"),
      r.Error ? h("div", { class: "error" }, r.Error) : null);
  };
  const contact = (r) => r.Role === "Leader" ? h("span", { class: "muted" }, "is leader")
    : r.LastContactMs === null || r.LastContactMs === undefined ? h("span", { class: "muted" }, "—") : fmtDuration(r.LastContactMs) + " ago";
  const num = (k) => (r) => r.Role === "Unreachable" ? "—" : String(r[k]);
  return panel(h("span", {}, "Replicas ", h("span", { class: "muted" }, `served by ${ov.ServedBy}`)),
    h("div", { id: "replicas" }, table([
      ["Replica", (r) => h("span", { "data-replica": r.ID }, idView(r.ID), r.APIAddr ? h("div", { class: "muted mono" }, r.APIAddr) : null)],
      ["Role", role],
      ["Term", num("Term"), "num"],
      ["Commit", num("CommitIndex"), "num"],
      ["Applied", num("AppliedIndex"), "num"],
      ["Last contact", contact],
      ["Digest", digest],
    ], rows, "No replicas in the Raft configuration.")));
}

function nodesPanel(nodes) {
  const compute = nodes.filter((n) => n.ComputeNodeInfo);
  const card = (n) => {
    const ci = n.ComputeNodeInfo;
    const used = (k) => Math.max(0, (ci.MaxCapacity[k] || 0) - (ci.AvailableCapacity[k] || 0));
    return h("div", { class: "node-card", "data-node": n.NodeID },
      h("div", { class: "head" }, idView(n.NodeID, `/ui/nodes/${encodeURIComponent(n.NodeID)}`), connectionBadge(n.Connection)),
      h("div", { class: "row" }, h("span", { class: "muted" }, "CPU"), meter(used("CPU"), ci.MaxCapacity.CPU || 0, fmtCPU)),
      h("div", { class: "row" }, h("span", { class: "muted" }, "Memory"), meter(used("Memory"), ci.MaxCapacity.Memory || 0, fmtBytes)),
      h("div", { class: "row" }, h("span", { class: "muted" }, "Runs"), h("span", {}, `${ci.RunningExecutions} running · ${ci.EnqueuedExecutions} queued`)));
  };
  return panel(h("span", {}, "Compute nodes ", h("span", { class: "muted" }, `${compute.length}`)),
    compute.length ? h("div", { class: "nodes-list", id: "overview-nodes" }, compute.map(card)) : h("p", { class: "empty" }, "No compute node has registered."));
}

function jobCounts(ov) {
  const counts = ov.JobCounts || {};
  const total = ov.Jobs || 0;
  const bar = h("div", { class: "statebar", title: "Jobs by state" });
  for (const s of states) {
    if (!counts[s]) continue;
    const seg = h("span", { class: "s-" + s, title: `${s}: ${counts[s]}` });
    seg.style.width = ((counts[s] / Math.max(1, total)) * 100).toFixed(2) + "%";
    bar.appendChild(seg);
  }
  return panel(h("span", {}, "Jobs by state ", h("span", { class: "muted" }, `${total} in all`)),
    h("div", { class: "counts", id: "job-counts" }, states.map((s) => h("a", { class: "count", href: `/ui/jobs?state=${s}`, "data-state": s },
      h("div", { class: "n" }, String(counts[s] || 0)), h("div", { class: "l" }, s)))),
    bar,
    h("p", { class: "muted" }, `State index ${ov.Index}. Leader: ${ov.Leader || "none"}.`));
}
