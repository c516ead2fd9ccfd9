/**
 * The experiment's self-contained HTML report (no request leaves the file: chart.js is inlined,
 * the data is embedded): throughput and errors per second and latency per second with the events
 * marked as vertical lines, replicas over time (ready pods, the autoscaler's desired count), the
 * latency spectra before and after the disturbance (the shared percentile axis) and the figures.
 */
import {
  chartJs,
  esc,
  kv,
  num,
  PERCENTILE_AXIS_JS,
  spectrum,
  table,
} from "../bench/html_report.ts";
import { mergeHistograms } from "../bench/histogram.ts";
import type { ExperimentResult } from "./experiment_steps.ts";

/** Which events are drawn as lines, and their colours. */
const MARKED: Record<string, string> = {
  kill: "#dc2626",
  step: "#9333ea",
  "hpa-desired": "#d97706",
  "pod-ready": "#16a34a",
  "pod-not-ready": "#f97316",
  endpoints: "#0891b2",
  phase: "#111827",
};

/** The seconds before and after the disturbance (kill, step, background on). */
function spectra(r: ExperimentResult): { label: string; points: [number, number][] }[] {
  const pivotKind = r.kind === "chaos" ? "kill" : r.kind === "autoscale" ? "step" : "phase";
  const pivot = r.events.find((e) =>
    e.kind === pivotKind && (pivotKind !== "phase" || e.subject === "on")
  )?.t_unix_ms;
  if (pivot === undefined) return [];
  const before = r.series.merged.filter((s) => s.t_unix_ms + 1_000 <= pivot);
  const after = r.series.merged.filter((s) => s.t_unix_ms >= pivot);
  const names = r.kind === "background"
    ? ["background off", "background on"]
    : [`before the ${pivotKind}`, `after the ${pivotKind}`];
  return [before, after].map((part, i) => ({
    label: names[i]!,
    points: spectrum(mergeHistograms(part.map((s) => s.histogram))),
  })).filter((s) => s.points.length > 0);
}

/** Renders the report. */
export async function renderExperimentHtml(r: ExperimentResult): Promise<string> {
  const lib = await chartJs();
  const t0 = r.series.merged[0]?.t_unix_ms ?? Date.parse(r.started_at);
  const x = (t: number) => Math.round((t - t0) / 10) / 100;
  const events = r.events.filter((e) => MARKED[e.kind] && e.t_unix_ms >= t0 - 5_000);
  const end = x((r.series.merged.at(-1)?.t_unix_ms ?? t0) + 1_000);
  /** A stepped line that runs on to the end with its last value. */
  const toEnd = (points: { x: number; y: number }[]) =>
    points.length ? [...points, { x: end, y: points.at(-1)!.y }] : points;
  const replicas = toEnd(
    r.events.filter((e) =>
      e.kind === "pod-ready" || e.kind === "pod-not-ready" || e.kind === "pod-deleted"
    ).map((e) => ({ x: x(e.t_unix_ms), y: e.value ?? 0 })),
  );
  const desired = toEnd(
    r.events.filter((e) => e.kind === "hpa-desired").map((e) => ({
      x: x(e.t_unix_ms),
      y: e.value ?? 0,
    })),
  );
  const data = {
    seconds: r.series.merged.map((s) => ({
      x: x(s.t_unix_ms),
      ok: s.ok,
      errors: s.errors.total,
      p50: s.latency_ms.p50,
      p99: s.latency_ms.p99,
      max: s.latency_ms.max,
    })),
    events: events.map((e) => ({
      x: x(e.t_unix_ms),
      color: MARKED[e.kind],
      label: `${e.kind} ${e.subject}${e.value !== undefined ? ` (${e.value})` : ""}`,
    })),
    end,
    replicas,
    desired,
    spectra: spectra(r),
  };
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const figures = table(
    ["figure", "value"],
    Object.entries(r.figures).map(([k, v]) => [
      esc(k),
      typeof v === "number" ? num(v, 3) : esc(v === null ? "– (never)" : String(v)),
    ]),
    "num",
  );
  const params = Object.entries(r.params).map(([k, v]) => `${k} ${v}`).join(", ");
  const summary = kv([
    ["Run", esc(r.id)],
    ["Experiment", esc(r.kind)],
    [
      "Target",
      `deployment/${esc(r.target.deployment)} in ${esc(r.target.namespace)}, <code>${
        esc(r.target.url)
      }</code>`,
    ],
    ["Parameters", esc(params)],
    ["Load", esc(`open model (constant rate), ${r.load.generator}`)],
    [
      "Cluster",
      esc(
        `${r.cluster.context}: ${r.cluster.nodes} node(s), ${r.cluster.model}, Kubernetes ${r.cluster.kubernetes_version}`,
      ),
    ],
    ["Started", esc(r.started_at)],
  ]);
  const eventRows = table(
    ["t (s)", "event", "subject", "value"],
    r.events.filter((e) => e.kind !== "pod-created").map((e) => [
      num(x(e.t_unix_ms), 2),
      esc(e.kind),
      esc(e.subject),
      esc(e.value ?? ""),
    ]),
    "num",
  );
  const hasReplicas = replicas.length > 0 || desired.length > 0;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>cncfdemo experiment ${esc(r.kind)} ${esc(r.id)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1d232a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; } table.num td:first-child { text-align: left; }
table.kv th { font-weight: 600; color: #555; } code { font-size: 12px; }
.chart { position: relative; height: 340px; } .note { color: #555; font-size: 13px; }
</style>
</head>
<body>
<h1>cncfdemo experiment: ${esc(r.kind)}</h1>
<p class="note">Run ${esc(r.id)} · generated by <code>deno task experiment ${
    esc(r.kind)
  }</code> · every figure is computed from the recorded per-second series and events</p>
<h2>Summary</h2>
${summary}
<h2>Figures</h2>
${figures}
<h2>Throughput and errors per second</h2>
<div class="chart"><canvas id="throughput" role="img" aria-label="Throughput and errors per second"></canvas></div>
<h2>Latency per second (ms)</h2>
<div class="chart"><canvas id="latency" role="img" aria-label="Latency per second"></canvas></div>
${
    hasReplicas
      ? '<h2>Replicas over time</h2>\n<div class="chart"><canvas id="replicas" role="img" aria-label="Replicas over time"></canvas></div>'
      : ""
  }
<h2>Latency by percentile</h2>
<div class="chart"><canvas id="spectrum" role="img" aria-label="Latency by percentile"></canvas></div>
<h2>Events</h2>
${eventRows}
<script type="application/json" id="experiment-data">${json}</script>
<script>${lib}</script>
<script>${PERCENTILE_AXIS_JS}</script>
<script>
(function () {
  try {
    var data = JSON.parse(document.getElementById("experiment-data").textContent);
    Chart.defaults.animation = false;
    Chart.defaults.font.family = "system-ui, sans-serif";
    // The events as vertical lines over every time chart.
    var eventLines = { id: "eventLines", afterDatasetsDraw: function (chart) {
      var xs = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      data.events.forEach(function (e) {
        var px = xs.getPixelForValue(e.x);
        if (px < area.left || px > area.right) return;
        ctx.save(); ctx.strokeStyle = e.color; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.restore();
      });
    } };
    var timeAxis = { type: "linear", max: data.end,
      title: { display: true, text: "seconds since the load began" } };
    function series(key) { return data.seconds.map(function (s) { return { x: s.x, y: s[key] }; }); }
    new Chart(document.getElementById("throughput"), {
      type: "line",
      data: { datasets: [
        { label: "successful responses/s", data: series("ok"), borderColor: "#1f6feb", pointRadius: 0, yAxisID: "y" },
        { label: "errors/s", data: series("errors"), borderColor: "#dc2626", pointRadius: 0, yAxisID: "y" },
      ] },
      options: { maintainAspectRatio: false, parsing: false, scales: { x: timeAxis, y: { beginAtZero: true } } },
      plugins: [eventLines],
    });
    new Chart(document.getElementById("latency"), {
      type: "line",
      data: { datasets: [
        { label: "p50", data: series("p50"), borderColor: "#d97706", pointRadius: 0 },
        { label: "p99", data: series("p99"), borderColor: "#dc2626", pointRadius: 0 },
        { label: "max", data: series("max"), borderColor: "#9ca3af", pointRadius: 0, borderDash: [4, 3] },
      ] },
      options: { maintainAspectRatio: false, parsing: false,
        scales: { x: timeAxis, y: { type: "logarithmic", title: { display: true, text: "ms" } } } },
      plugins: [eventLines],
    });
    var replicas = document.getElementById("replicas");
    if (replicas) {
      new Chart(replicas, {
        type: "line",
        data: { datasets: [
          { label: "Ready pods", data: data.replicas, borderColor: "#16a34a", stepped: true, pointRadius: 2 },
          { label: "HPA desired replicas", data: data.desired, borderColor: "#d97706", stepped: true, pointRadius: 2 },
        ] },
        options: { maintainAspectRatio: false, parsing: false,
          scales: { x: timeAxis, y: { beginAtZero: true, ticks: { precision: 0 } } } },
        plugins: [eventLines],
      });
    }
    var palette = ["#1f6feb", "#dc2626"];
    new Chart(document.getElementById("spectrum"), {
      type: "line",
      data: { datasets: data.spectra.map(function (s, i) {
        return { label: s.label, data: s.points.map(function (p) { return { x: p[0], y: p[1] }; }),
          borderColor: palette[i % palette.length], pointRadius: 0 };
      }) },
      options: { maintainAspectRatio: false, parsing: false,
        scales: { x: cncfdemoPercentileAxis(), y: { beginAtZero: true, title: { display: true, text: "latency (ms)" } } },
        plugins: { tooltip: { callbacks: { title: cncfdemoPercentileTitle } } } },
    });
    document.documentElement.dataset.rendered = "ok";
  } catch (e) {
    document.documentElement.dataset.rendered = "error: " + e;
    throw e;
  }
})();
</script>
</body>
</html>
`;
}
