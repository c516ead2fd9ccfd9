import assert from "node:assert/strict";
import type { BenchResult } from "../bench/result.ts";
import { analyze, stat } from "./analyze.ts";
import { renderMarkdown } from "./markdown.ts";
import { costPerMillion, localCostPerHour, shippedPrices } from "./prices.ts";
import type { Records } from "./read.ts";
import type { BootstrapRecord, Phase, RolloutRecord } from "./schema.ts";

let n = 0;
const at = () => `2026-01-01T00:00:${String(n++).padStart(2, "0")}.000Z`;

function phases(list: [string, number][]): Phase[] {
  let t = 0;
  return list.map(([key, ms]) => {
    const depth = key.split(" › ").length - 1;
    const p = {
      key,
      name: key.split(" › ").at(-1)!,
      depth,
      start_ms: t,
      ms,
      ok: true,
      group: false,
    };
    if (depth === 0) t += ms;
    return p;
  });
}

function bench(
  model: string,
  rps: number,
  o: { connections?: number; context?: string | null; types?: Record<string, number> } = {},
): BenchResult {
  const id = `b${n}`;
  return {
    schema: "cncfdemo.bench/v1",
    id,
    started_at: at(),
    model,
    target: "http://bench-target.cncfdemo/",
    params: {
      duration_s: 10,
      connections: o.connections ?? 16,
      threads: 2,
      parallelism: 1,
      request_timeout_s: 2,
      status_counts: false,
    },
    requests: rps * 10,
    rps,
    errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0, total: 0 },
    latency_ms: { p50: 1, p75: 2, p90: 3, p99: 1_000 / rps, p99_9: 9, min: 0.1, max: 10 },
    histogram: [[100, 5], [1_000, 4], [9_000, 1]],
    cluster: o.context === null ? null : {
      context: o.context ?? `${model}-x`,
      server: "https://127.0.0.1:6443",
      kubernetes_version: "v1.36.3",
      nodes: 1,
      simulated_nodes: 0,
      instance_types: o.types ?? {},
      model,
    },
  } as unknown as BenchResult;
}

function rollout(model: string, components: string[], waves: [string, number][]): RolloutRecord {
  const id = `r${n}`;
  const total = waves.filter(([k]) => !k.includes(" › ")).reduce((s, [, ms]) => s + ms, 0);
  return {
    schema: "cncfdemo.rollout/v1",
    id,
    session: id,
    command: "rollout",
    started_at: at(),
    ended_at: at(),
    model,
    cluster: { name: null, context: `${model}-x`, server: null },
    nodes: { count: 1, simulated: model === "sim" ? 1 : 0, types: { [model]: 1 } },
    versions: {},
    params: {},
    host: { hostname: "h", os: "linux", cpus: 2, memory_bytes: null },
    steps_start_ms: 0,
    total_ms: total,
    phases: phases(waves),
    first_good_request: model === "sim"
      ? null
      : { ms: 60_000, after_rollout_ms: 100, target: "service x", attempts: 1 },
    first_good_request_note: model === "sim" ? "simulated nodes run no containers" : null,
    components,
    objects: components.length * 3,
    values_digest: "d",
    outcome: { created: components.length * 3, configured: 0, unchanged: 0, pruned: 0 },
  };
}

function bootstrap(
  provider: "sim" | "local" | "aws",
  existed: boolean,
  list: [string, number][],
  extra: Partial<BootstrapRecord> = {},
): BootstrapRecord {
  const id = `s${n}`;
  return {
    schema: "cncfdemo.bootstrap/v1",
    id,
    session: id,
    command: `bootstrap:${provider}`,
    started_at: at(),
    ended_at: at(),
    model: provider,
    provider,
    cluster: { name: "x", context: `${provider}-x`, server: null },
    nodes: { count: 1, simulated: 0, types: { [provider === "sim" ? "kwok" : "local"]: 1 } },
    versions: {},
    params: {},
    host: { hostname: "h", os: "linux", cpus: 2, memory_bytes: null },
    existed,
    region: null,
    endpoint: null,
    api_calls: null,
    steps_start_ms: 0,
    total_ms: list.reduce((s, [, ms]) => s + ms, 0),
    phases: phases(list),
    first_good_request: null,
    first_good_request_note: "not measured",
    ...extra,
  };
}

const records = (r: Partial<Records>): Records => ({
  bench: [],
  bootstrap: [],
  rollout: [],
  experiment: [],
  skipped: [],
  ...r,
});

Deno.test("stat: median of odd and even counts, min, max", () => {
  assert.deepEqual(stat([3, 1, 2]), { n: 3, median: 2, min: 1, max: 3 });
  assert.deepEqual(stat([4, 1, 2, 3]), { n: 4, median: 2.5, min: 1, max: 4 });
  assert.equal(stat([]), null);
});

Deno.test("report: a benchmark with a changed parameter is its own group; cost per million at the median run", () => {
  const prices = shippedPrices();
  const r = analyze(
    records({
      bench: [
        bench("local", 1_000),
        bench("local", 1_100),
        bench("local", 900),
        bench("local", 5_000, { connections: 64 }),
      ],
    }),
    prices,
    { resultsDir: "results" },
  );
  assert.deepEqual(r.models.map((m) => m.model), ["local"]);
  const groups = r.models[0]!.bench;
  assert.equal(groups.length, 2);
  const [like, changed] = groups;
  assert.equal(like!.runs.length, 3);
  assert.deepEqual(like!.rps, { n: 3, median: 1_000, min: 900, max: 1_100 });
  assert.equal(like!.representative.rps, 1_000);
  assert.equal(like!.representative.p99, 1); // the p99 of the median run, not of another
  const perHour = localCostPerHour(prices.local);
  assert.equal(like!.usd_per_million, costPerMillion(perHour, 1_000));
  assert.deepEqual(changed!.runs.length, 1);
  assert.equal(changed!.params.connections, 64);
  assert.equal(changed!.usd_per_million, costPerMillion(perHour, 5_000));
  assert.ok(like!.spectrum.length > 0);
});

Deno.test("report: an AWS benchmark is priced from its cluster's bootstrap record (types and region)", () => {
  const boot = bootstrap("aws", false, [["VPC", 1_000]], {
    cluster: { name: "demo", context: "aws-demo", server: null },
    nodes: { count: 4, simulated: 0, types: { "t3.medium": 4 } },
    region: "eu-west-1",
  });
  const r = analyze(
    records({ bootstrap: [boot], bench: [bench("kubernetes", 200, { context: "aws-demo" })] }),
    shippedPrices(),
    { resultsDir: "results" },
  );
  const aws = r.models.find((m) => m.model === "aws")!;
  const g = aws.bench[0]!;
  assert.ok(g.cost.usd_per_hour !== null && Math.abs(g.cost.usd_per_hour - 4 * 0.0456) < 1e-9);
  assert.ok(Math.abs(g.usd_per_million! - (4 * 0.0456) / (200 * 3_600) * 1e6) < 1e-12);
  assert.equal(aws.bootstrap[0]!.cost.usd_per_hour, g.cost.usd_per_hour);
});

Deno.test("report: like runs only in calibration; fresh and re-run bootstraps apart; Gantt of the latest", () => {
  const all = ["prometheus", "pushgateway", "bench-target"];
  const waves: [string, number][] = [
    ["Read the live state", 20],
    ["Apply in waves", 10_000],
    ["Apply in waves › Monitoring", 10_000],
  ];
  const rec = records({
    bootstrap: [
      bootstrap("sim", false, [['Start control plane "<name>"', 2_000], [
        "Wait for nodes Ready",
        50,
      ]]),
      bootstrap("sim", true, [['Start control plane "<name>"', 100]]),
      bootstrap("local", false, [
        ["Start", 3_000],
        ["Start › Control plane", 3_000],
        ["Start › Control plane › etcd and kube-apiserver", 1_000],
        ["Start › Control plane › kube-controller-manager and kube-scheduler", 900],
      ]),
    ],
    rollout: [
      rollout("sim", all, waves),
      rollout("local", all, [
        ["Read the live state", 21],
        ["Apply in waves", 40_000],
        ["Apply in waves › Monitoring", 40_000],
      ]),
      rollout("local", ["prometheus"], waves), // a changed parameter: other components
    ],
  });
  const r = analyze(rec, shippedPrices(), { resultsDir: "results" });
  const sim = r.models.find((m) => m.model === "sim")!;
  assert.deepEqual(sim.bootstrap.map((g) => g.existed), [false, true]);
  const local = r.models.find((m) => m.model === "local")!;
  assert.equal(local.rollout.length, 2);
  assert.equal(local.rollout[0]!.first_good_request_ms!.median, 60_000);

  const rows = r.calibration.rows.map((x) => [x.stage, x.phase, x.sim_ms, x.real_ms, x.predicted]);
  assert.deepEqual(rows, [
    [
      "bootstrap",
      "Control plane started (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)",
      2_000,
      1_900,
      true,
    ],
    ["rollout", "Rollout (total)", 10_020, 40_021, false],
    ["rollout", "Read the live state", 20, 21, true],
    ["rollout", "Apply in waves", 10_000, 40_000, false],
    ["rollout", "Apply in waves › Monitoring", 10_000, 40_000, false],
  ]);
  // Only the rollout with the same components was compared.
  assert.ok(r.calibration.rows.every((x) => !x.real_group.includes("off: pushgateway")));

  // The Gantt chart: each model's latest bootstrap and rollout, and the first good request.
  const gantt = r.gantt.filter((g) => g.model === "local");
  assert.ok(gantt.some((g) => g.kind === "first good request" && g.end_ms === 60_000));
  assert.ok(
    gantt.some((g) => g.kind === "bootstrap" && g.label.trim() === "etcd and kube-apiserver"),
  );

  const md = renderMarkdown(r);
  assert.match(md, /^# cncfdemo: deployment models side by side/);
  assert.match(md, /\| sim \|/);
  assert.match(md, /2 of 5 timings predicted within 20 %; 3 not\./);
});
