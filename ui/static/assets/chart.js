// A small SVG line chart for the overview's live series: one value a
// second, null where nothing happened.
import { h, s } from "./dom.js";

const W = 600, H = 90, PAD = 4;

// lineChart draws values (oldest first) scaled to their own maximum.
export function lineChart(title, values, fmt, opts = {}) {
  const nums = values.filter((v) => v !== null && v !== undefined);
  const maxV = Math.max(opts.min || 0, ...nums, 0);
  const last = [...values].reverse().find((v) => v !== null && v !== undefined);
  const top = maxV > 0 ? maxV * 1.15 : 1;
  const x = (i) => PAD + (i * (W - 2 * PAD)) / Math.max(1, values.length - 1);
  const y = (v) => H - PAD - (v / top) * (H - 2 * PAD);

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": title });
  for (const f of [0.25, 0.5, 0.75]) svg.appendChild(s("line", { x1: 0, x2: W, y1: H * f, y2: H * f, stroke: "#edf1f4", "stroke-width": 1 }));
  // Runs of present values become one path each; gaps stay gaps, except
  // where a series is a rate (zero when nothing happened).
  let d = "", area = "", run = [];
  const flush = () => {
    if (!run.length) return;
    d += run.map(([i, v], k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
    area += `M${x(run[0][0]).toFixed(1)},${H - PAD}` + run.map(([i, v]) => `L${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("") + `L${x(run[run.length - 1][0]).toFixed(1)},${H - PAD}Z`;
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null || v === undefined) { if (!opts.zeroGaps) { flush(); return; } v = 0; }
    run.push([i, v]);
  });
  flush();
  if (area) svg.appendChild(s("path", { d: area, fill: opts.color || "#1384ad", "fill-opacity": 0.12, stroke: "none" }));
  if (d) svg.appendChild(s("path", { d, fill: "none", stroke: opts.color || "#1384ad", "stroke-width": 1.6, "vector-effect": "non-scaling-stroke", "stroke-linejoin": "round" }));
  // Lone points (a single second with data) would draw no line.
  values.forEach((v, i) => {
    const prev = values[i - 1], next = values[i + 1];
    if (v !== null && v !== undefined && (prev === null || prev === undefined) && (next === null || next === undefined) && !opts.zeroGaps) {
      svg.appendChild(s("circle", { cx: x(i), cy: y(v), r: 2.2, fill: opts.color || "#1384ad" }));
    }
  });

  return h("div", { class: "panel chart", "data-chart": opts.id || title },
    h("h2", {}, title),
    h("div", { class: "val" }, last === undefined ? h("span", { class: "muted" }, "no data yet") : fmt(last)),
    svg,
    h("div", { class: "axis" }, h("span", {}, `-${values.length}s`), h("span", {}, `max ${nums.length ? fmt(maxV) : "—"}`), h("span", {}, "now")));
}
