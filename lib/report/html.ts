/**
 * The report as one self-contained HTML file, like the bench report: Chart.js inlined (read from
 * the npm package by `chartJs()`), the data inlined, a Content-Security-Policy that allows nothing
 * from outside the file. Charts: the phase timelines of the models as one Gantt chart (seconds
 * since each command started, the first good request as its own bar) and the models' latency
 * spectra (percentile on a log-scaled tail axis, as the bench report draws them).
 */
import { chartJs, pageHead, PERCENTILE_AXIS_JS, renderedScript } from "../bench/html_report.ts";
import type { Report } from "./analyze.ts";
import { type Block, reportBlocks, type Table } from "./view.ts";

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

function table(t: Table): string {
  return `<table${t.numeric ? ' class="num"' : ""}><thead><tr>${
    t.head.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    t.rows.map((r) =>
      `<tr>${
        r.map((c) =>
          `<td${/^✗/.test(c) ? ' class="miss"' : /^✓/.test(c) ? ' class="hit"' : ""}>${esc(c)}</td>`
        )
          .join("")
      }</tr>`
    ).join("")
  }</tbody></table>`;
}

function block(b: Block, r: Report): string {
  switch (b.kind) {
    case "heading":
      return `<h${b.level}>${esc(b.text)}</h${b.level}>`;
    case "text":
      return `<p${b.note ? ' class="note"' : ""}>${esc(b.text)}</p>`;
    case "table":
      return `<div class="scroll">${table(b.table)}</div>`;
    case "list":
      return `<ul>${b.items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
    case "chart": {
      if (b.chart === "gantt") {
        if (!r.gantt.length) {
          return `<h2>${esc(b.title)}</h2><p class="note">No phase records yet.</p>`;
        }
        const h = Math.max(200, r.gantt.length * 18 + 90);
        return `<h2>${
          esc(b.title)
        }</h2><p class="note">Each model's latest bootstrap and rollout, in seconds since its command started (the demo's bootstrap and rollout share one command).</p><div class="chart" style="height:${h}px"><canvas id="gantt" role="img" aria-label="${
          esc(b.title)
        }"></canvas></div>`;
      }
      const any = r.models.some((m) => m.bench.some((g) => g.spectrum.length));
      if (!any) return `<h2>${esc(b.title)}</h2><p class="note">No benchmark results yet.</p>`;
      return `<h2>${
        esc(b.title)
      }</h2><p class="note">Each benchmark configuration's run of median throughput. Data-plane figures belong to their model: they never transfer between models.</p><div class="chart" style="height:400px"><canvas id="spectra" role="img" aria-label="${
        esc(b.title)
      }"></canvas></div>`;
    }
  }
}

/** The report as one self-contained HTML page. */
const REPORT_PAGE_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1d232a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; } h4 { font-size: .95rem; margin: 1rem 0 .2rem; color: #444; font-weight: 600; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; } table.num td:first-child { text-align: left; white-space: pre; }
td.hit { color: #15803d; } td.miss { color: #b91c1c; }
.scroll { overflow-x: auto; } .chart { position: relative; } .note { color: #555; font-size: 13px; }
`;

export async function renderHtml(r: Report): Promise<string> {
  const lib = await chartJs();
  const data = {
    gantt: r.gantt.map((g) => ({
      model: g.model,
      kind: g.kind,
      label: `${g.model} · ${g.command} · ${g.label}`,
      from: g.start_ms / 1_000,
      to: g.end_ms / 1_000,
    })),
    spectra: r.models.flatMap((m) =>
      m.bench.filter((g) => g.spectrum.length).map((g) => ({
        model: m.model,
        label: `${m.model} · ${g.label}`,
        points: g.spectrum,
      }))
    ),
  };
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `${pageHead("cncfdemo report", REPORT_PAGE_STYLE)}
${reportBlocks(r).map((b) => block(b, r)).join("\n")}
<script type="application/json" id="report-data">${json}</script>
<script>${lib}</script>
<script>${PERCENTILE_AXIS_JS}</script>
${
    renderedScript(`    var data = JSON.parse(document.getElementById("report-data").textContent);
    var colours = { sim: "#9333ea", local: "#1f6feb", aws: "#d97706", kubernetes: "#0891b2" };
    var colour = function (m) { return colours[m] || "#6b7280"; };
    Chart.defaults.animation = false;
    Chart.defaults.font.family = "system-ui, sans-serif";
    var gantt = document.getElementById("gantt");
    if (gantt) {
      var models = [];
      data.gantt.forEach(function (g) { if (models.indexOf(g.model) < 0) models.push(g.model); });
      var labels = data.gantt.map(function (g) { return g.label; });
      var sets = models.map(function (m) {
        return {
          label: m, grouped: false, borderSkipped: false, barPercentage: 0.8,
          backgroundColor: data.gantt.map(function (g) { return g.kind === "first good request" ? "#16a34a" : colour(m); }),
          data: data.gantt.map(function (g) { return g.model === m ? [g.from, g.to] : null; }),
        };
      });
      new Chart(gantt, {
        type: "bar",
        data: { labels: labels, datasets: sets },
        options: {
          indexAxis: "y", maintainAspectRatio: false,
          scales: {
            x: { beginAtZero: true, title: { display: true, text: "seconds since the command started" } },
            y: { ticks: { autoSkip: false, font: { size: 11 } } },
          },
          plugins: { tooltip: { callbacks: { label: function (c) {
            var v = c.raw; return v ? (v[0].toFixed(2) + "s → " + v[1].toFixed(2) + "s (" + (v[1] - v[0]).toFixed(2) + "s)") : "";
          } } } },
        },
      });
    }
    var spectra = document.getElementById("spectra");
    if (spectra) {
      var dash = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
      var seen = {};
      new Chart(spectra, {
        type: "line",
        data: { datasets: data.spectra.map(function (s) {
          var k = seen[s.model] = (seen[s.model] || 0) + 1;
          return {
            label: s.label, data: s.points.map(function (p) { return { x: p[0], y: p[1] }; }),
            borderColor: colour(s.model), borderWidth: 2, borderDash: dash[(k - 1) % dash.length],
            pointRadius: 0, tension: 0,
          };
        }) },
        options: {
          maintainAspectRatio: false, parsing: false,
          interaction: { mode: "nearest", intersect: false },
          scales: {
            x: cncfdemoPercentileAxis(),
            y: { type: "logarithmic", title: { display: true, text: "latency (ms, log)" } },
          },
          plugins: { tooltip: { callbacks: {
            title: cncfdemoPercentileTitle,
            label: function (c) { return c.dataset.label + ": " + c.parsed.y.toFixed(3) + " ms"; },
          } } },
        },
      });
    }
`)
  }`;
}
