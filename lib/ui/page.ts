/**
 * The browser view's one page (plain DOM, Chart.js served by the task): live mode follows a task's
 * event stream — the step tree with live status and elapsed times, the rollout's objects per wave
 * turning ready, per-second series as charts with events marked, the summary, and the end; results
 * mode lists a results directory's records (one click opens one: its phases as the same tree, a
 * benchmark's figures and HTML report, an experiment's figures and series) and embeds the report.
 * Everything comes from the task's own server; the token rides on every URL the page asks for.
 */
import { formatDuration } from "../duration.ts";
import { ERROR_CLASSES } from "../bench/wrk_result.ts";
import { SECOND_CHARTS } from "./second_series.ts";

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const STYLE = `
:root { --ok: #1a7f37; --bad: #cf222e; --run: #9a6700; --mute: #656d76; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { display: flex; gap: 1em; align-items: baseline; padding: .7em 1.2em; background: #fff;
  border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 1.1em; margin: 0; font-family: ui-monospace, monospace; }
#state { font-weight: 600; }
#state[data-state=running], #state[data-state=connecting] { color: var(--run); }
#state[data-state=ok] { color: var(--ok); }
#state[data-state=failed], #state[data-state=lost] { color: var(--bad); }
main { padding: 1em 1.2em; display: grid; gap: 1em; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6em 1em; }
section.card h2 { font-size: 1em; margin: .2em 0 .6em; }
[hidden] { display: none !important; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 1.4em; }
ul.tree { padding-left: 0; }
li.step > .row { display: flex; gap: .5em; align-items: baseline; padding: 1px 0; }
li.step .icon { width: 1.1em; text-align: center; font-weight: 700; }
li.step[data-state=running] > .row .icon { color: var(--run); }
li.step[data-state=ok] > .row .icon { color: var(--ok); }
li.step[data-state=failed] > .row .icon { color: var(--bad); }
li.step .time { color: var(--mute); font-variant-numeric: tabular-nums; }
li.step .detail { color: var(--mute); }
li.step .progress { color: var(--run); font-size: .92em; }
li.step .error { color: var(--bad); }
li.step .notes { color: var(--mute); font-size: .92em; padding-left: 1.6em; white-space: pre-wrap; }
.waves { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: .8em; }
.wave h3 { font-size: .95em; margin: 0 0 .3em; }
.wave table { border-collapse: collapse; width: 100%; font-size: .9em; }
.wave td { padding: 1px 4px; border-top: 1px solid #eaeef2; }
.wave tr[data-ready=true] td:first-child { color: var(--ok); }
.wave tr[data-ready=false] td:first-child { color: var(--run); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: .8em; }
figure.chart { margin: 0; }
figure.chart figcaption { font-size: .9em; color: var(--mute); font-variant-numeric: tabular-nums; }
figure.chart .box { position: relative; height: 240px; }
pre { white-space: pre-wrap; margin: 0; font: 13px/1.4 ui-monospace, monospace; }
#results-main { grid-template-columns: minmax(260px, 340px) 1fr; align-items: start; }
#records button { display: block; width: 100%; text-align: left; border: 1px solid var(--line);
  background: #fff; border-radius: 4px; padding: .35em .5em; margin: 0 0 .3em; cursor: pointer;
  font: inherit; }
#records button[aria-current=true] { border-color: #0969da; background: #ddf4ff; }
#records .kind { font-weight: 600; text-transform: uppercase; font-size: .75em; color: #0969da; }
#records .sub { color: var(--mute); font-size: .85em; word-break: break-all; }
table.kv { border-collapse: collapse; } table.kv th { text-align: left; padding-right: 1em;
  color: var(--mute); font-weight: 500; } table.kv td { font-variant-numeric: tabular-nums; }
iframe { width: 100%; height: 80vh; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
`;

/** Browser code (kept to what current Chromium and Firefox run); TOKEN and MODE are set before. */
const CLIENT = `
"use strict";
${formatDuration.toString()}
const tok = "?token=" + encodeURIComponent(TOKEN);
const $ = (s) => document.querySelector(s);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  for (const k of kids) if (k !== undefined && k !== null) e.append(k);
  return e;
}
function num(v, d) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–"
    : v.toLocaleString("en-US", { maximumFractionDigits: d === undefined ? 2 : d });
}
function setState(state, text) {
  const s = $("#state");
  s.dataset.state = state;
  s.textContent = text;
  document.documentElement.dataset.state = state;
}

// ---- the step tree (live events, or a record's phases) ----
const steps = new Map();
let doneCount = 0;
function stepEvent(s, root) {
  if (s.kind === "start") {
    if (steps.has(s.id)) return;
    const children = el("ul");
    const row = el("div", { class: "row" }, el("span", { class: "icon" }, "•"),
      el("span", { class: "name" }, s.name), el("span", { class: "time" }, ""),
      el("span", { class: "detail" }, ""), el("span", { class: "progress" }, ""));
    const li = el("li", { class: "step", id: "step-" + s.id, "data-state": "running",
      "data-name": s.name, "data-depth": s.depth }, row, el("div", { class: "notes" }), children);
    const parent = s.parent && steps.get(s.parent);
    (parent ? parent.children : root || $("#steps")).append(li);
    steps.set(s.id, { li, row, children, start: s.t, running: true });
    if (offset !== null && !ended) {
      row.querySelector(".time").textContent = formatDuration(performance.now() + offset - s.t);
    }
    return;
  }
  const st = steps.get(s.id);
  if (!st) return;
  if (s.kind === "progress") {
    st.row.querySelector(".progress").textContent = s.message;
  } else if (s.kind === "note") {
    const n = st.li.querySelector(".notes");
    n.textContent += (n.textContent ? "\\n" : "") + s.message;
  } else if (s.kind === "end") {
    st.running = false;
    st.li.dataset.state = s.ok ? "ok" : "failed";
    st.li.dataset.done = String(++doneCount);
    st.row.querySelector(".icon").textContent = s.ok ? "✓" : "✗";
    st.row.querySelector(".time").textContent = formatDuration(s.ms);
    st.row.querySelector(".progress").textContent = "";
    const d = s.detail ? "— " + s.detail : "";
    st.row.querySelector(".detail").textContent = d;
    if (s.error) st.row.append(el("span", { class: "error" }, s.error));
  }
}
let offset = null; // server clock − page clock
/** Counts the running steps' time on the server's clock. */
function tick() {
  if (offset === null) return;
  const now = performance.now() + offset;
  for (const st of steps.values()) {
    if (st.running) st.row.querySelector(".time").textContent = formatDuration(now - st.start);
  }
}
setInterval(tick, 500);

// ---- rollout waves ----
const waves = new Map();
function wave(name) {
  let w = waves.get(name);
  if (w) return w;
  $("#waves-card").hidden = false;
  const body = el("tbody");
  const count = el("span", { class: "count" });
  const box = el("div", { class: "wave", "data-wave": name }, el("h3", {}, name, " ", count),
    el("table", {}, body));
  $("#waves").append(box);
  w = { body, count, rows: new Map() };
  waves.set(name, w);
  return w;
}
function setObject(name, o) {
  const w = wave(name);
  let tr = w.rows.get(o.id);
  if (!tr) {
    tr = el("tr", { "data-id": o.id }, el("td"), el("td", {}, o.id), el("td"));
    w.rows.set(o.id, tr);
    w.body.append(tr);
  }
  tr.dataset.ready = String(o.ready);
  tr.children[0].textContent = o.ready ? "✓" : "◌";
  tr.children[2].textContent = o.status;
  const ready = [...w.rows.values()].filter((r) => r.dataset.ready === "true").length;
  w.count.textContent = "(" + ready + "/" + w.rows.size + " ready)";
}

// ---- series charts, with events marked ----
const charts = new Map();
const marks = [];
const COLOURS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a"];
const markPlugin = {
  id: "cncfdemoMarks",
  afterDatasetsDraw(chart) {
    const x = chart.scales.x, a = chart.chartArea, c = chart.ctx;
    c.save();
    c.strokeStyle = "#8250df"; c.fillStyle = "#8250df"; c.setLineDash([4, 3]);
    c.font = "11px system-ui, sans-serif";
    for (const m of marks) {
      const px = x.getPixelForValue(m.t / 1000);
      if (px < a.left || px > a.right) continue;
      c.beginPath(); c.moveTo(px, a.top); c.lineTo(px, a.bottom); c.stroke();
      c.fillText(m.label, Math.min(px + 3, a.right - 60), a.top + 10);
    }
    c.restore();
  },
};
function chartFor(name, host) {
  let ch = charts.get(name);
  if (ch) return ch;
  (host ? host.closest("section") : $("#charts-card")).hidden = false;
  const canvas = el("canvas", { id: "chart-" + name });
  const caption = el("figcaption", {}, name);
  const fig = el("figure", { class: "chart", "data-series": name, "data-points": 0 },
    el("div", { class: "box" }, canvas), caption);
  (host || $("#charts")).append(fig);
  ch = { fig, caption, sets: new Map(), points: 0, pending: false, chart: null };
  if (typeof Chart !== "undefined") {
    ch.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        normalized: true, interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: { x: { type: "linear", title: { display: true, text: MODE === "live" ? "s since the task started" : "s since the load started" } },
          y: { beginAtZero: true, title: { display: true, text: name } } },
        plugins: { title: { display: true, text: name } },
      },
      plugins: [markPlugin],
    });
  }
  charts.set(name, ch);
  return ch;
}
function redraw(ch) {
  if (!ch.chart || ch.pending) return;
  ch.pending = true;
  setTimeout(() => { ch.pending = false; ch.chart.update("none"); }, 150);
}
function seriesEvent(e, host) {
  const ch = chartFor(e.name, host);
  for (const [k, v] of Object.entries(e.values)) {
    let set = ch.sets.get(k);
    if (!set) {
      const c = COLOURS[ch.sets.size % COLOURS.length];
      set = { label: k, data: [], borderColor: c, backgroundColor: c, pointRadius: 1.5,
        borderWidth: 1.5 };
      ch.sets.set(k, set);
      if (ch.chart) ch.chart.data.datasets.push(set);
    }
    set.data.push({ x: e.t / 1000, y: v });
  }
  ch.points++;
  ch.fig.dataset.points = String(ch.points);
  ch.fig.dataset.last = JSON.stringify(e.values);
  ch.caption.textContent = (e.t / 1000).toFixed(0) + " s: " +
    Object.entries(e.values).map(([k, v]) => k + " " + num(v)).join(", ");
  redraw(ch);
}
function markEvent(e) {
  marks.push(e);
  if (MODE === "live") {
    $("#marks-card").hidden = false;
    $("#marks").append(el("li", {}, (e.t / 1000).toFixed(1) + " s: " + e.label));
  }
  for (const ch of charts.values()) redraw(ch);
}

// ---- live mode ----
let lastSeq = 0;
let ended = false;
function handle(e) {
  if (e.seq <= lastSeq) return;
  if (e.seq !== lastSeq + 1) document.documentElement.dataset.gap = lastSeq + "→" + e.seq;
  lastSeq = e.seq;
  document.documentElement.dataset.seq = String(lastSeq);
  switch (e.type) {
    case "task":
      $("#title").textContent = "deno task " + [e.command, ...e.args].join(" ");
      $("#started").textContent = "started " + new Date(e.started_at).toLocaleString();
      break;
    case "step": stepEvent(e.step); break;
    case "wave": for (const o of e.objects) setObject(e.wave, o); break;
    case "object": setObject(e.wave, e); break;
    case "series": seriesEvent(e); break;
    case "mark": markEvent(e); break;
    case "summary":
      $("#summary-card").hidden = false;
      $("#summary").textContent += ($("#summary").textContent ? "\\n" : "") + e.lines.join("\\n");
      break;
    case "end":
      ended = true;
      for (const st of steps.values()) st.running = false;
      setState(e.ok ? "ok" : "failed", e.ok
        ? "✓ the task has ended: this is its final state"
        : "✗ the task failed: " + (e.error || "see its output"));
      break;
  }
}
function live() {
  $("#live-main").hidden = false;
  setState("connecting", "connecting…");
  const es = new EventSource("/events" + tok);
  es.addEventListener("hello", (m) => {
    offset = JSON.parse(m.data).now - performance.now();
    if (!ended) setState("running", "running");
  });
  es.onmessage = (m) => handle(JSON.parse(m.data));
  es.onerror = () => {
    if (ended) { es.close(); return; }
    setState("lost", "connection lost: retrying…");
  };
}

// ---- results mode ----
function kv(rows) {
  return el("table", { class: "kv" }, el("tbody", {}, ...rows.map(([k, v]) =>
    el("tr", {}, el("th", {}, k), el("td", {}, v)))));
}
function showPhases(phases, host) {
  const root = el("ul", { class: "tree" });
  host.append(root);
  const stack = [];
  phases.forEach((p, i) => {
    const id = "r" + i;
    stack.length = p.depth;
    stepEvent({ kind: "start", id, parent: stack[p.depth - 1], name: p.name, depth: p.depth,
      t: p.start_ms }, root);
    stepEvent({ kind: "end", id, ok: p.ok, ms: p.ms, detail: p.detail }, root);
    stack[p.depth] = id;
  });
}
/** Per-second samples of a record (a bench's per_second, an experiment's merged series). */
function showSeconds(rows, events, host) {
  const first = rows.find((r) => r && typeof r.second === "number");
  if (!first) return;
  const t0 = typeof first.t_unix_ms === "number" ? first.t_unix_ms - first.second * 1000 : 0;
  for (const ev of events || []) {
    if (typeof ev.t_unix_ms === "number") {
      markEvent({ t: ev.t_unix_ms - t0, label: ev.kind + (ev.subject ? " " + ev.subject : "") });
    }
  }
  for (const r of rows) {
    if (!r || typeof r.second !== "number") continue;
    const t = (r.second + 1) * 1000;
    const l = r.latency_ms || {}, e = r.errors || {};
    seriesEvent({ t, name: CHARTS.throughput, values: { ok: r.ok } }, host);
    seriesEvent({ t, name: CHARTS.latency, values: { p50: l.p50, p90: l.p90, p99: l.p99 } }, host);
    const errs = {};
    for (const c of ERROR_CLASSES) errs[c] = e[c] || 0;
    seriesEvent({ t, name: CHARTS.errors, values: errs }, host);
  }
}
async function openRecord(entry, button) {
  for (const b of document.querySelectorAll("#records button")) b.removeAttribute("aria-current");
  button.setAttribute("aria-current", "true");
  const d = $("#detail");
  d.replaceChildren();
  steps.clear(); charts.clear(); marks.length = 0;
  d.dataset.file = entry.file;
  if (entry.report) {
    d.append(el("h2", {}, "Deployment models side by side (deno task report)"),
      el("iframe", { src: "/report" + tok, title: "report" }));
    return;
  }
  const doc = await (await fetch("/api/record/" + encodeURIComponent(entry.file) + tok)).json();
  d.append(el("h2", {}, entry.kind + " " + entry.id));
  const rows = [["started", doc.started_at], ["model", entry.model], ["what", entry.label]];
  if (doc.ended_at) rows.push(["ended", doc.ended_at]);
  if (entry.kind === "bench") {
    const l = doc.latency_ms || {};
    rows.push(["requests", num(doc.requests, 0)], ["requests/s", num(doc.rps, 1)],
      ["errors", num(doc.errors && doc.errors.total, 0)],
      ["latency ms", "p50 " + num(l.p50, 3) + "  p90 " + num(l.p90, 3) + "  p99 " + num(l.p99, 3) +
        "  p99.9 " + num(l.p99_9, 3) + "  max " + num(l.max, 3)],
      ["parameters", JSON.stringify(doc.params)]);
  }
  if (entry.kind === "experiment" && doc.figures) {
    for (const [k, v] of Object.entries(doc.figures)) rows.push([k, typeof v === "number" ? num(v, 3) : JSON.stringify(v)]);
  }
  d.append(el("section", { class: "card" }, kv(rows)));
  if (Array.isArray(doc.phases)) {
    const sec = el("section", { class: "card" }, el("h2", {}, "Phases"));
    d.append(sec);
    showPhases(doc.phases, sec);
  }
  const seconds = Array.isArray(doc.per_second) ? doc.per_second
    : doc.series && Array.isArray(doc.series.merged) ? doc.series.merged
    : Array.isArray(doc.series) ? doc.series : null;
  if (seconds) {
    const host = el("div", { class: "charts" });
    d.append(el("section", { class: "card", hidden: "" }, el("h2", {}, "Per-second series"), host));
    showSeconds(seconds, Array.isArray(doc.events) ? doc.events : [], host);
  }
  if (entry.html) {
    d.append(el("h2", {}, "HTML report"),
      el("iframe", { src: "/file/" + encodeURIComponent(entry.html) + tok, title: "bench report" }));
  }
  d.append(el("details", {}, el("summary", {}, "the record as JSON"),
    el("pre", {}, JSON.stringify(doc, null, 1))));
}
async function results() {
  $("#results-main").hidden = false;
  setState("ok", "results directory");
  const list = await (await fetch("/api/records" + tok)).json();
  const nav = $("#records");
  const add = (entry, kind, title, sub) => {
    const b = el("button", { type: "button", "data-file": entry.file || "report" },
      el("div", { class: "kind" }, kind), el("div", {}, title), el("div", { class: "sub" }, sub));
    b.addEventListener("click", () => openRecord(entry, b).catch((err) => {
      $("#detail").textContent = "Cannot open it: " + err;
    }));
    nav.append(b);
    return b;
  };
  const first = add({ report: true }, "report", "Deployment models side by side",
    list.length + " records");
  for (const e of list) {
    add(e, e.kind, e.label, e.started_at + " · " + e.model + (e.html ? " · HTML report" : ""));
  }
  document.documentElement.dataset.records = String(list.length);
  await openRecord({ report: true }, first);
}

if (MODE === "live") live();
else results().catch((err) => setState("failed", "Cannot read the results: " + err));
`;

/** The page for a live task or a results directory. */
export function renderPage(o: { token: string; title: string; mode: "live" | "results" }): string {
  const t = esc(o.token);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script src="/assets/chart.js?token=${t}"></script>
</head>
<body>
<header><h1 id="title">${
    esc(o.title)
  }</h1><span id="state"></span><span id="started"></span></header>
<main id="live-main" hidden>
<section class="card"><h2>Steps</h2><ul id="steps" class="tree"></ul></section>
<section class="card" id="waves-card" hidden><h2>Rollout: objects per wave</h2><div id="waves" class="waves"></div></section>
<section class="card" id="charts-card" hidden><h2>Per-second series</h2><div id="charts" class="charts"></div></section>
<section class="card" id="marks-card" hidden><h2>Events</h2><ul id="marks"></ul></section>
<section class="card" id="summary-card" hidden><h2>Summary</h2><pre id="summary"></pre></section>
</main>
<main id="results-main" hidden>
<nav id="records"></nav>
<div id="detail"></div>
</main>
<script>
const TOKEN = ${JSON.stringify(o.token).replaceAll("<", "\\u003c")};
const MODE = ${JSON.stringify(o.mode)};
const CHARTS = ${JSON.stringify(SECOND_CHARTS)};
const ERROR_CLASSES = ${JSON.stringify(ERROR_CLASSES)};
${CLIENT}
</script>
</body>
</html>
`;
}
