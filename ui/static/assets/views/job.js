// A job: its state and spec, its executions, its history as a timeline, its
// logs streamed live, result downloads and a Stop button.
import { h, replace, idView, table, panel, problem, jobStateBadge, execStateBadge, execStateName, execDesired,
  execTerminal, labelChips, timeView, fmtTime, toDate, fmtDuration } from "../dom.js";
import { get, call, download, logsSocket, role, canSubmit, q } from "../api.js";
import { toYAML } from "../yaml.js";

const specKeys = ["Name", "Namespace", "Type", "Priority", "Count", "Constraints", "Labels", "Meta", "Tasks"];

export async function render(root, ctx) {
  const id = ctx.params[0];
  document.title = `Job ${id} · Shoal`;
  let stopped = false, timer = null, socket = null;
  let lastIndex = 0, jobID = id, logExec = "", logsStarted = false;

  const head = h("div", { class: "page-head" });
  const flash = h("div");
  const statePanel = h("div");
  const execPanel = h("div");
  const timeline = h("div");
  const spec = h("pre", { class: "yaml", id: "job-spec" });
  const logBox = h("pre", { class: "logs", id: "job-logs", "aria-label": "Logs" });
  const logExecSel = h("select", { id: "log-execution", "aria-label": "Execution" });
  const logStatus = h("span", { class: "muted", id: "log-status" });
  const logFollow = h("input", { type: "checkbox", checked: true });
  const reconnect = h("button", { type: "button", hidden: true }, "Reconnect");

  replace(root, head, flash,
    h("div", { class: "grid side" },
      h("div", { class: "stack" },
        statePanel,
        panel("Executions", execPanel),
        panel(h("span", {}, "Logs ", logStatus),
          h("div", { class: "actions" }, h("label", { class: "inline" }, "Execution ", logExecSel),
            h("label", { class: "inline" }, logFollow, "Follow"), reconnect),
          logBox)),
      h("div", { class: "stack" }, panel("History", timeline), panel("Spec", spec))));

  const r = await role();
  const warnings = sessionStorage.getItem("shoal.submit.warnings");
  sessionStorage.removeItem("shoal.submit.warnings");
  const warn = warnings ? h("div", { class: "hint", id: "submit-warnings" }, h("b", {}, "The API accepted the job with warnings: "),
    JSON.parse(warnings).join("; ")) : null;
  if (warn) head.after(warn);

  function openLogs() {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    replace(logBox);
    reconnect.hidden = true;
    logStatus.textContent = "connecting…";
    const params = { follow: logFollow.checked, execution_id: logExec };
    const ws = logsSocket(jobID, params);
    socket = ws;
    let lines = 0;
    ws.onopen = () => { logStatus.textContent = logFollow.checked ? "streaming live" : "reading"; };
    ws.onmessage = (ev) => {
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      const v = frame.value || frame.Value;
      if (v) {
        lines++;
        const stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 8;
        logBox.appendChild(h("span", { class: v.Type === 2 ? "stderr" : "" }, v.Line));
        if (stick) logBox.scrollTop = logBox.scrollHeight;
      } else if (frame.error || frame.Error) {
        logBox.appendChild(h("span", { class: "note" }, `\n${frame.error || frame.Error}\n`));
      }
    };
    ws.onclose = () => {
      if (socket !== ws || stopped) return;
      socket = null;
      logStatus.textContent = `stream ended · ${lines} line${lines === 1 ? "" : "s"}`;
      if (!lines) logBox.appendChild(h("span", { class: "note" }, "No output.\n"));
      reconnect.hidden = false;
    };
  }
  logExecSel.addEventListener("change", () => { logExec = logExecSel.value; openLogs(); });
  logFollow.addEventListener("change", openLogs);
  reconnect.addEventListener("click", openLogs);

  function drawHead(job) {
    const actions = h("div", { class: "actions" });
    if (canSubmit(r) && !["Completed", "Failed", "Stopped"].includes(job.State.StateType)) {
      const stop = h("button", { type: "button", class: "danger", id: "stop-job" }, "Stop");
      stop.addEventListener("click", () => {
        const confirm = h("button", { type: "button", class: "danger", id: "confirm-stop" }, "Stop this job");
        const cancel = h("button", { type: "button" }, "Cancel");
        cancel.addEventListener("click", () => drawHead(job));
        confirm.addEventListener("click", async () => {
          confirm.disabled = true;
          try {
            await call("DELETE", `/api/v1/orchestrator/jobs/${encodeURIComponent(job.ID)}`, { Reason: "Stopped from the web UI" });
            await refresh();
          } catch (e) { replace(flash, problem(e)); confirm.disabled = false; }
        });
        replace(actions, h("span", { class: "muted" }, "Stop it for good?"), confirm, cancel);
      });
      actions.appendChild(stop);
    }
    replace(head,
      h("div", {}, h("h1", {}, job.Name && job.Name !== job.ID ? job.Name : "Job", " ", h("span", { class: "mono title-id", id: "job-id" }, job.ID)),
        h("div", { class: "sub state-line" }, jobStateBadge(job.State.StateType), h("span", {}, `${job.Type} · namespace ${job.Namespace}`),
          job.State.Message ? h("span", { class: "muted", id: "job-message" }, job.State.Message) : null)),
      actions);
  }

  function drawState(job, execs) {
    replace(statePanel, panel("State", h("dl", { class: "kv", id: "job-state" },
      h("dt", {}, "State"), h("dd", {}, jobStateBadge(job.State.StateType), job.State.Message ? h("span", { class: "muted" }, " " + job.State.Message) : null),
      h("dt", {}, "Job ID"), h("dd", { class: "mono" }, job.ID),
      h("dt", {}, "Type / count"), h("dd", {}, `${job.Type} · ${job.Count}`),
      h("dt", {}, "Labels"), h("dd", {}, labelChips(job.Labels)),
      h("dt", {}, "Created"), h("dd", {}, fmtTime(job.CreateTime)),
      h("dt", {}, "Modified"), h("dd", {}, fmtTime(job.ModifyTime), ` · revision ${job.Revision}`),
      h("dt", {}, "Executions"), h("dd", {}, summary(execs), fullIDs(execs)))));
  }

  function drawExecutions(job, execs) {
    const result = (e) => {
      if (execStateName(e.ComputeState.StateType) !== "Completed" || !e.PublishedResult || !e.PublishedResult.Type) return h("span", { class: "muted" }, "—");
      if (!/^urlDownload$/i.test(e.PublishedResult.Type)) return h("span", { class: "muted" }, e.PublishedResult.Type);
      const path = `/api/v1/orchestrator/jobs/${encodeURIComponent(job.ID)}/executions/${encodeURIComponent(e.ID)}/result`;
      const a = h("a", { href: path, class: "download", "data-execution": e.ID }, "Download");
      a.addEventListener("click", async (ev) => {
        ev.preventDefault();
        try { await download(path, `${e.ID}.tar.gz`); } catch (err) { replace(flash, problem(err)); }
      });
      return a;
    };
    replace(execPanel, table([
      ["Execution", (e) => idView(e.ID)],
      ["Node", (e) => idView(e.NodeID, `/ui/nodes/${encodeURIComponent(e.NodeID)}`)],
      ["State", (e) => h("span", {}, execStateBadge(e.ComputeState.StateType), e.ComputeState.Message ? h("div", { class: "muted" }, e.ComputeState.Message) : null)],
      ["Desired", (e) => execDesired[e.DesiredState.StateType] ?? String(e.DesiredState.StateType)],
      ["Exit code", (e) => e.RunOutput ? String(e.RunOutput.exitCode ?? e.RunOutput.ExitCode ?? "—") : "—", "num"],
      ["Updated", (e) => timeView(e.ModifyTime)],
      ["Results", result],
    ], execs, "No executions yet: the job waits for the scheduler or for a node."));
    const chosen = logExec;
    replace(logExecSel, h("option", { value: "" }, "latest"), execs.map((e) => h("option", { value: e.ID, selected: e.ID === chosen },
      `${e.ID.slice(0, 10)} · ${execStateName(e.ComputeState.StateType)}`)));
  }

  function drawHistory(job, events) {
    const start = toDate(job.CreateTime);
    replace(timeline, events.length ? h("ol", { class: "timeline", id: "job-history" }, events.map((ev) => {
      const t = toDate(ev.Time);
      const isJob = ev.Type === 1 || ev.Type === "JobLevel" || (!ev.ExecutionID && ev.JobState);
      let what, cls = isJob ? "job" : "";
      if (ev.JobState) {
        what = h("span", {}, "Job ", ev.JobState.Previous, " → ", h("b", {}, ev.JobState.New));
        if (ev.JobState.New === "Failed") cls += " bad";
        if (ev.JobState.New === "Completed") cls += " ok";
      } else if (ev.ExecutionState) {
        const to = execStateName(ev.ExecutionState.New);
        what = h("span", {}, "Execution ", idView(ev.ExecutionID), " ", execStateName(ev.ExecutionState.Previous), " → ", h("b", {}, to),
          ev.NodeID ? h("span", { class: "muted" }, " on ", idView(ev.NodeID, `/ui/nodes/${encodeURIComponent(ev.NodeID)}`)) : null);
        if (["Failed", "BidRejected", "AskForBidRejected"].includes(to)) cls += " bad";
        if (to === "Completed") cls += " ok";
      } else {
        what = h("span", {}, "Event");
      }
      return h("li", { class: cls },
        h("div", { class: "when" }, fmtTime(t), start && t ? ` · +${t - start < 1 ? "0ms" : fmtDuration(t - start)}` : ""),
        h("div", { class: "what" }, what),
        ev.Comment ? h("div", { class: "comment" }, ev.Comment) : null);
    })) : h("p", { class: "empty" }, "No events yet."));
  }

  async function refresh() {
    clearTimeout(timer);
    let job, execs, history;
    try {
      const resp = await get(`/api/v1/orchestrator/jobs/${encodeURIComponent(id)}` + q({ include: "executions,history" }));
      if (stopped || !ctx.gen()) return;
      job = resp.Job;
      execs = (resp.Executions && resp.Executions.Executions) || [];
      history = (resp.History && resp.History.History) || [];
      replace(flash);
    } catch (e) {
      if (stopped) return;
      replace(flash, problem(e));
      if (e.status === 404) { replace(head, h("h1", {}, "Job ", h("span", { class: "mono" }, id))); return; }
      timer = setTimeout(refresh, 4000);
      return;
    }
    jobID = job.ID;
    document.title = `${job.Name || job.ID} · Shoal`;
    execs.sort((a, b) => b.CreateTime - a.CreateTime);
    const key = `${job.Revision}/${execs.map((e) => e.ID + e.Revision).join(",")}/${history.length}`;
    if (key !== lastIndex) {
      lastIndex = key;
      drawHead(job);
      drawState(job, execs);
      drawExecutions(job, execs);
      drawHistory(job, history);
      const sp = {};
      for (const k of specKeys) if (job[k] !== undefined) sp[k] = job[k];
      spec.textContent = toYAML(sp);
    }
    if (!logsStarted && execs.length) { logsStarted = true; openLogs(); }
    const done = ["Completed", "Failed", "Stopped"].includes(job.State.StateType) && execs.every((e) => execTerminal(e.ComputeState.StateType));
    if (!stopped) timer = setTimeout(refresh, done ? 15000 : 1500);
  }
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (socket) { socket.onclose = null; socket.close(); }
  };
}

// fullIDs lists the latest executions with their nodes by full ID, for
// copying and searching; the tables show short IDs.
function fullIDs(execs) {
  if (!execs.length) return null;
  const shown = execs.slice(0, 5);
  return h("ul", { class: "full-ids", id: "job-execution-ids" }, shown.map((e) => h("li", {},
    h("span", { class: "mono" }, e.ID), " on ", h("a", { class: "mono", href: `/ui/nodes/${encodeURIComponent(e.NodeID)}` }, e.NodeID),
    " · ", execStateName(e.ComputeState.StateType))),
  execs.length > shown.length ? h("li", { class: "muted" }, `and ${execs.length - shown.length} more`) : null);
}

function summary(execs) {
  if (!execs.length) return "none yet";
  const by = {};
  for (const e of execs) { const n = execStateName(e.ComputeState.StateType); by[n] = (by[n] || 0) + 1; }
  return Object.entries(by).map(([k, v]) => `${v} ${k}`).join(" · ");
}
