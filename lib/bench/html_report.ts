/**
 * The self-contained HTML report of a run: one file, no external URL (it opens offline). Chart.js
 * (npm chart.js, pinned in deno.json) is read from the npm cache and inlined, together with the
 * run's data. Contents: a summary table, the latency percentile spectrum on a log-scaled tail axis
 * (as HdrHistogram plots it: x = 1/(1−q), labelled 90%, 99%, 99.9%, …), the per-generator table,
 * errors, and a comparison with the earlier runs of the results directory.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { CncfdemoError, errorMessage } from "../errors.ts";
import { type Histogram, percentile, totalCount } from "./histogram.ts";
import { PERCENTILES } from "./merge.ts";
import type { BenchResult } from "./result.ts";

let chartJsSource: string | undefined;

/** Chart.js's UMD build, read from the npm package (downloaded on first use). */
export async function chartJs(): Promise<string> {
  if (chartJsSource !== undefined) return chartJsSource;
  try {
    // Loading the package makes Deno fetch it into its cache when it is not there yet; its
    // "exports" do not list the UMD build, so that file is found beside the package's main file.
    await import("chart.js");
    const main = createRequire(import.meta.url).resolve("chart.js");
    const text = await Deno.readTextFile(`${dirname(main)}/chart.umd.min.js`);
    // No source map reference: the report must not point anywhere outside itself.
    chartJsSource = text.replace(/\/\/# sourceMappingURL=\S+\s*$/, "").replaceAll(
      "</script",
      "<\\/script",
    );
    return chartJsSource;
  } catch (err) {
    throw new CncfdemoError(`Cannot load Chart.js for the HTML report: ${errorMessage(err)}`);
  }
}

/** Points of the percentile spectrum: x = 1/(1−q) (log axis), y = latency in ms. */
export function spectrum(h: Histogram, stepsPerDecade = 10): [number, number][] {
  const n = totalCount(h);
  if (n === 0) return [];
  const points: [number, number][] = [];
  for (let k = 0;; k++) {
    const x = 10 ** (k / stepsPerDecade);
    if (x > n) break;
    const q = 1 - 1 / x;
    points.push([x, percentile(h, Math.max(q * 100, 1e-9))! / 1_000]);
  }
  points.push([Math.max(n, 1), h[h.length - 1]![0] / 1_000]);
  return points;
}

/** Escapes text for HTML. */
export const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** A number for a table ("–" when there is none). */
export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${num(n, 1)} ${units[i]}`;
}

/** An HTML table; cells are HTML already. */
export function table(head: string[], rows: string[][], cls = ""): string {
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${
    head.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

/** A two-column key/value table; values are HTML already. */
export const kv = (rows: [string, string][]): string =>
  `<table class="kv"><tbody>${
    rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")
  }</tbody></table>`;

/** The styles of the bench and experiment reports. */
export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1d232a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; } table.num td:first-child { text-align: left; }
table.kv th { font-weight: 600; color: #555; } code { font-size: 12px; }
.chart { position: relative; height: 380px; } .note { color: #555; font-size: 13px; }
`;

/**
 * The opening of a self-contained report page, up to <body>: nothing may be fetched (the
 * Content-Security-Policy allows only the page's own inline scripts, styles and data: images).
 */
export function pageHead(title: string, style: string = REPORT_STYLE): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${style}</style>
</head>
<body>`;
}

/**
 * A report's drawing code, run at once and marking the page: `data-rendered="ok"` on <html> when
 * it finished, the error otherwise (what the headless-browser tests read). Ends the page.
 */
export function renderedScript(code: string): string {
  return `<script>
(function () {
  try {
${code}
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

/**
 * Browser code both HTML reports (bench, report) embed for latency spectra: the percentile axis
 * (x = 1/(1-q), log-scaled, a tick per decade: 0%, 90%, 99%, 99.9%…) and its tooltip title.
 */
export const PERCENTILE_AXIS_JS = `
function cncfdemoPct(x) {
  var q = 100 * (1 - 1 / x);
  return (q === 0 ? "0" : q.toFixed(Math.max(0, Math.ceil(Math.log10(x)) - 2))) + "%";
}
function cncfdemoPercentileAxis() {
  return { type: "logarithmic", min: 1, title: { display: true, text: "percentile" },
    afterBuildTicks: function (axis) {
      var ticks = [];
      for (var v = 1; v <= axis.max * 1.0001; v *= 10) ticks.push({ value: v });
      axis.ticks = ticks;
    },
    ticks: { callback: function (v) { return cncfdemoPct(v); } } };
}
function cncfdemoPercentileTitle(items) {
  return items.length ? "p" + cncfdemoPct(items[0].parsed.x) : "";
}
`;

/** Renders the report; `earlier` are the other runs of the results directory (any order). */
export async function renderHtmlReport(
  r: BenchResult,
  earlier: readonly BenchResult[],
): Promise<string> {
  const lib = await chartJs();
  const others = earlier.filter((e) => e.id !== r.id)
    .sort((a, b) => a.started_at.localeCompare(b.started_at)).slice(-19);
  const lat = r.latency_ms;
  const p = r.params;
  const gens = r.generators;
  const meanOfP99 = gens.length > 1
    ? gens.reduce((s, g) => s + (g.latency_ms.p99 ?? 0), 0) / gens.length
    : null;

  const summary = kv([
    ["Run", esc(r.id)],
    ["Model", esc(r.model)],
    ["Target", `<code>${esc(r.target)}</code>`],
    ["Started", esc(r.started_at)],
    [
      "Parameters",
      esc(
        `${p.parallelism} generator(s) × ${p.connections} connections, ${p.threads} threads, ${p.duration_s}s`,
      ),
    ],
    ["Requests", num(r.requests, 0)],
    ["Throughput", `<b>${num(r.rps, 1)} requests/s</b>, ${bytes(r.bytes_per_s)}/s`],
    [
      "Errors",
      `${num(r.errors.total, 0)} (${
        num((100 * r.errors.total) / Math.max(1, r.requests + r.errors.total), 3)
      }%)`,
    ],
    ...(r.cluster
      ? [[
        "Cluster",
        esc(
          `${r.cluster.context}: ${r.cluster.nodes} nodes, Kubernetes ${r.cluster.kubernetes_version}${
            Object.keys(r.cluster.instance_types).length
              ? `, ${
                Object.entries(r.cluster.instance_types).map(([t, n]) => `${n}× ${t}`).join(", ")
              }`
              : ""
          }`,
        ),
      ] as [string, string]]
      : []),
    ...(r.host
      ? [[
        "Host",
        esc(`${r.host.hostname} (${r.host.os}, ${r.host.cpus} CPUs), ${r.wrk_version ?? "wrk"}`),
      ] as [string, string]]
      : []),
  ]);

  const latencyTable = table(
    ["min", "mean", "stdev", ...PERCENTILES.map(([k]) => k.replace("_", ".")), "max"],
    [[
      num(lat.min, 3),
      num(lat.mean, 3),
      num(lat.stdev, 3),
      ...PERCENTILES.map(([k]) => num(lat[k], 3)),
      num(lat.max, 3),
    ]],
    "num",
  );

  const genTable = table(
    ["generator", "requests", "requests/s", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    gens.map((g) => [
      esc(g.generator),
      num(g.requests, 0),
      num(g.rps, 1),
      num(g.errors.total, 0),
      num(g.latency_ms.p50, 3),
      num(g.latency_ms.p90, 3),
      num(g.latency_ms.p99, 3),
      num(g.latency_ms.max, 3),
    ]),
    "num",
  );

  const errorsTable = table(
    ["connect", "read", "write", "status (HTTP ≥ 400)", "timeout", "total"],
    [[
      num(r.errors.connect, 0),
      num(r.errors.read, 0),
      num(r.errors.write, 0),
      num(r.errors.status, 0),
      num(r.errors.timeout, 0),
      num(r.errors.total, 0),
    ]],
    "num",
  );
  const statusTable = r.status_counts
    ? table(
      ["HTTP status", "responses"],
      Object.entries(r.status_counts).map(([k, v]) => [esc(k), num(v, 0)]),
      "num",
    )
    : "";

  const runs = [...others, r];
  const comparison = others.length
    ? table(
      [
        "run",
        "model",
        "target",
        "parameters",
        "requests/s",
        "Δ vs this",
        "p50 ms",
        "p99 ms",
        "errors",
      ],
      runs.map((e) => [
        e.id === r.id ? `<b>${esc(e.id)}</b> (this run)` : esc(e.id),
        esc(e.model),
        `<code>${esc(e.target)}</code>`,
        esc(
          `${e.params.parallelism}×${e.params.connections}c ${e.params.threads}t ${e.params.duration_s}s`,
        ),
        num(e.rps, 1),
        e.id === r.id ? "" : `${num((100 * (e.rps - r.rps)) / (r.rps || 1), 1)}%`,
        num(e.latency_ms.p50, 3),
        num(e.latency_ms.p99, 3),
        num(e.errors.total, 0),
      ]),
      "num",
    )
    : "<p>No earlier runs in the results directory yet.</p>";

  const data = {
    spectra: [
      { label: `${r.id} (merged)`, points: spectrum(r.histogram), main: true },
      ...(gens.length > 1
        ? gens.map((g) => ({ label: g.generator, points: spectrum(g.histogram), main: false }))
        : []),
      ...others.slice(-4).map((e) => ({
        label: `earlier: ${e.id}`,
        points: spectrum(e.histogram ?? []),
        main: false,
        earlier: true,
      })),
    ],
    runs: runs.map((e) => ({
      id: e.id,
      rps: e.rps,
      p99: e.latency_ms.p99,
      p50: e.latency_ms.p50,
      current: e.id === r.id,
    })),
  };
  const json = JSON.stringify(data).replace(/</g, "\\u003c");

  return `${pageHead(`cncfdemo benchmark ${r.id}`)}
<h1>cncfdemo benchmark</h1>
<p class="note">Run ${esc(r.id)} · ${esc(r.model)} · generated by <code>deno task bench</code></p>
<h2>Summary</h2>
${summary}
<h2>Latency (ms)</h2>
${latencyTable}
<p class="note">Merged exactly from every generator's full distribution (${
    num(lat.count, 0)
  } recorded latencies${
    r.per_second
      ? ", the sum of the per-second distributions"
      : ", including wrk's correction for coordinated omission"
  }).${
    meanOfP99 !== null
      ? ` Averaging the generators' p99s would give ${num(meanOfP99, 3)} ms instead of ${
        num(lat.p99, 3)
      } ms.`
      : ""
  }</p>
<h2>Latency by percentile</h2>
<div class="chart"><canvas id="spectrum" role="img" aria-label="Latency by percentile"></canvas></div>
<h2>Generators</h2>
${genTable}
<h2>Errors</h2>
${errorsTable}
${statusTable}
<h2>Compared with earlier runs</h2>
${
    others.length
      ? '<div class="chart"><canvas id="history" role="img" aria-label="Throughput and p99 by run"></canvas></div>'
      : ""
  }
${comparison}
<script type="application/json" id="bench-data">${json}</script>
<script>${lib}</script>
<script>${PERCENTILE_AXIS_JS}</script>
${
    renderedScript(`    var data = JSON.parse(document.getElementById("bench-data").textContent);
    var palette = ["#1f6feb", "#d97706", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777"];
    Chart.defaults.animation = false;
    Chart.defaults.font.family = "system-ui, sans-serif";
    new Chart(document.getElementById("spectrum"), {
      type: "line",
      data: { datasets: data.spectra.map(function (s, i) {
        return {
          label: s.label, data: s.points.map(function (p) { return { x: p[0], y: p[1] }; }),
          borderColor: s.main ? "#111827" : palette[i % palette.length],
          borderWidth: s.main ? 3 : 1.5, borderDash: s.earlier ? [6, 4] : [],
          pointRadius: 0, stepped: false, tension: 0,
        };
      }) },
      options: {
        maintainAspectRatio: false, parsing: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: cncfdemoPercentileAxis(),
          y: { beginAtZero: true, title: { display: true, text: "latency (ms)" } },
        },
        plugins: { tooltip: { callbacks: {
          title: cncfdemoPercentileTitle,
          label: function (c) { return c.dataset.label + ": " + c.parsed.y.toFixed(3) + " ms"; },
        } } },
      },
    });
    var history = document.getElementById("history");
    if (history) {
      new Chart(history, {
        data: {
          labels: data.runs.map(function (r) { return r.id; }),
          datasets: [
            { type: "bar", label: "requests/s", yAxisID: "y",
              data: data.runs.map(function (r) { return r.rps; }),
              backgroundColor: data.runs.map(function (r) { return r.current ? "#1f6feb" : "#9ca3af"; }) },
            { type: "line", label: "p99 (ms)", yAxisID: "y1", borderColor: "#dc2626",
              data: data.runs.map(function (r) { return r.p99; }) },
            { type: "line", label: "p50 (ms)", yAxisID: "y1", borderColor: "#d97706",
              data: data.runs.map(function (r) { return r.p50; }) },
          ],
        },
        options: { maintainAspectRatio: false, scales: {
          y: { beginAtZero: true, position: "left", title: { display: true, text: "requests/s" } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
            title: { display: true, text: "latency (ms)" } },
        } },
      });
    }
`)
  }`;
}
