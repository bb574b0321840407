// Submit: paste a job in YAML or JSON. The server converts YAML, the create
// call validates; its message is shown beside the spec, and a job that is
// accepted opens on its own page.
import { h, replace, problem } from "../dom.js";
import { call, role, canSubmit } from "../api.js";

const example = `Name: hello
Type: batch
Count: 1
Labels: {team: demo}
Tasks:
  - Name: main
    Engine:
      Type: docker
      Params:
        Image: busybox:latest
        Entrypoint: [/bin/sh, -c]
        Parameters: ["echo hello from shoal"]
    Publisher: {Type: local}
    Resources: {CPU: 250m, Memory: 64mb}
`;

const draftKey = "shoal.submit.draft";

export async function render(root, ctx) {
  document.title = "Submit a job · Shoal";
  const r = await role();
  if (!canSubmit(r)) {
    replace(root, h("div", { class: "panel" }, h("h1", {}, "Submit a job"), h("p", {}, `Your token's role (${r.role}) cannot submit jobs.`)));
    return;
  }
  const spec = h("textarea", { id: "spec", spellcheck: "false", "aria-label": "Job spec (YAML or JSON)", placeholder: example });
  spec.value = sessionStorage.getItem(draftKey) || "";
  const out = h("div", { id: "submit-result", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary", id: "submit-job" }, "Submit");
  const fill = h("button", { type: "button" }, "Insert example");
  const form = h("form", {}, spec, h("div", { class: "actions" }, send, fill, h("span", { class: "muted" }, "YAML or JSON; a bare job or {Job: …}.")));
  replace(root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Submit a job"), h("div", { class: "sub" }, "The job is created through any replica: a follower forwards it to the leader."))),
    h("div", { class: "submit-grid" }, h("section", { class: "panel" }, form),
      h("section", { class: "panel" }, h("h2", {}, "Validation"), out,
        h("div", { class: "hint" }, h("p", {}, "Fields as upstream's: Type (batch, ops, service, daemon), Count, Constraints, Labels, Tasks[].Engine, Publisher, InputSources, ResultPaths, Resources, Network, Timeouts."),
          h("p", { class: "muted" }, "Engines: docker, wasm, noop. Publishers: local, noop.")))));
  replace(out, h("p", { class: "muted" }, "Problems with the spec show here, with the API's own message."));
  // One idempotency key per spec text: a submit whose answer was lost (a
  // leader change mid-commit) can be sent again without making two jobs,
  // and the replica retries it on its own.
  let idemKey = "", idemFor = null;
  const keyFor = (text) => {
    if (text !== idemFor) {
      const b = crypto.getRandomValues(new Uint8Array(16));
      idemKey = "ui-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      idemFor = text;
    }
    return idemKey;
  };
  spec.addEventListener("input", () => sessionStorage.setItem(draftKey, spec.value));
  fill.addEventListener("click", () => { spec.value = example; sessionStorage.setItem(draftKey, spec.value); spec.focus(); });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    send.disabled = true;
    replace(out, h("p", { class: "muted" }, "Submitting…"));
    try {
      const body = await call("POST", "/api/v1/ui/jobspec", spec.value, { contentType: "application/yaml" });
      const resp = await call("PUT", "/api/v1/orchestrator/jobs", body, { headers: { "Idempotency-Key": keyFor(spec.value) } });
      sessionStorage.removeItem(draftKey);
      if (resp.Warnings && resp.Warnings.length) sessionStorage.setItem("shoal.submit.warnings", JSON.stringify(resp.Warnings));
      ctx.navigate(`/ui/jobs/${encodeURIComponent(resp.JobID)}`);
    } catch (err) {
      replace(out, problem(err));
      send.disabled = false;
    }
  });
}
