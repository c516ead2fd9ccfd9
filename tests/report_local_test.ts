/**
 * `deno task report` with the real node's records: a fresh `bootstrap:local`, then `demo --context`
 * on it (rollout, the first good request to the bench target, the in-cluster benchmark); beside
 * them a simulated cluster's demo with the same shape of the stack, and an AWS bootstrap against
 * moto_server. The report shows the three models, every phase, the first good request, the cost
 * columns, and a calibration of sim against local (like rollouts, the control plane's start); the
 * HTML renders in headless Chromium. Needs Linux and root (CI runs as root); skipped otherwise.
 */
import assert from "node:assert/strict";
import type { BenchResult } from "../lib/bench/result.ts";
import type { Report } from "../lib/report/analyze.ts";
import { costPerMillion, localCostPerHour, shippedPrices } from "../lib/report/prices.ts";
import type { BootstrapRecord, RolloutRecord } from "../lib/report/schema.ts";
import { sandbox } from "./support/env.ts";
import { canRunLocal, withLocalCluster } from "./support/local_cluster.ts";
import { openInChromium } from "./support/chromium.ts";
import { awsRecords } from "./support/report.ts";

/** What an offline node can run, switched the same way on both models (like rollouts). */
const SHAPE = [
  "mongo.enabled=false",
  "countly.enabled=false",
  "grafana.enabled=false",
  "benchTarget.enabled=true",
  "boinc.enabled=false",
].flatMap((s) => ["--set", s]);

type AnyRecord = BootstrapRecord | RolloutRecord | BenchResult;

async function readAll(dir: string): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".json")) out.push(JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)));
  }
  return out.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

Deno.test({
  name:
    "report with the real node: local, sim and aws side by side, first good request, cost, calibration",
  ignore: !canRunLocal,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-report-local-" });
  const results = `${dir}/results`;
  try {
    // sim: the demo with the offline node's shape of the stack.
    const sb = await sandbox();
    const sim = `rs-${crypto.randomUUID().slice(0, 6)}`;
    try {
      const r = await sb.task("demo.ts", [
        "--name",
        sim,
        "--nodes",
        "1",
        ...SHAPE,
        "--results-dir",
        results,
      ]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      const down = await sb.task("teardown.ts", ["--provider", "sim", "--name", sim]);
      await sb.cleanup();
      assert.equal(down.code, 0, down.stderr);
    }

    // aws: bootstrap:aws --no-wait against moto.
    await awsRecords(results);

    // local: a fresh bootstrap:local (its record), then the demo on it.
    await withLocalCluster(["--results-dir", results], async ({ sb, name }) => {
      const r = await sb.task("demo.ts", [
        "--context",
        `local-${name}`,
        ...SHAPE,
        "--results-dir",
        results,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /✓ First good request \(.*\) — service cncfdemo\/bench-target:http GET \/ answered .* after the command started/,
      );
    });

    const all = await readAll(results);
    const localBoot = all.find((x): x is BootstrapRecord =>
      x.schema === "cncfdemo.bootstrap/v1" && x.model === "local"
    )!;
    const localRoll = all.find((x): x is RolloutRecord =>
      x.schema === "cncfdemo.rollout/v1" && x.model === "local"
    )!;
    const localBench = all.find((x): x is BenchResult =>
      x.schema === "cncfdemo.bench/v1" && x.model === "local"
    )!;
    assert.ok(
      localBoot && localRoll && localBench,
      all.map((x) => `${x.schema} ${x.model}`).join(", "),
    );
    assert.equal(localBoot.command, "bootstrap:local");
    assert.equal(localBoot.existed, false);
    assert.deepEqual(localBoot.nodes, { count: 1, simulated: 0, types: { local: 1 } });
    assert.ok(
      localBoot.phases.some((p) => p.key === "Start › Control plane › etcd and kube-apiserver"),
      localBoot.phases.map((p) => p.key).join(", "),
    );
    assert.equal(localRoll.command, "demo");
    const first = localRoll.first_good_request!;
    assert.ok(first, localRoll.first_good_request_note ?? "");
    assert.equal(first.target, "service cncfdemo/bench-target:http GET /");
    assert.ok(
      first.after_rollout_ms >= 0 && first.ms > first.after_rollout_ms,
      JSON.stringify(first),
    );
    assert.ok(first.ms <= localRoll.steps_start_ms + localRoll.total_ms + 60_000);

    const json = await sb0("report.ts", ["--results-dir", results, "--format", "json"]);
    const report = JSON.parse(json) as Report;
    assert.deepEqual(report.models.map((m) => m.model), ["sim", "local", "aws"]);
    const local = report.models[1]!;
    // Every phase of the local records is in the report.
    assert.deepEqual(
      local.bootstrap[0]!.phases.map((p) => p.key),
      localBoot.phases.map((p) => p.key),
    );
    assert.deepEqual(
      local.rollout[0]!.phases.map((p) => p.key),
      localRoll.phases.map((p) => p.key),
    );
    assert.equal(local.rollout[0]!.first_good_request_ms!.median, first.ms);
    // Costs: this machine per hour, and per million requests at the measured throughput.
    const perHour = localCostPerHour(shippedPrices().local);
    assert.equal(local.bootstrap[0]!.cost.usd_per_hour, perHour);
    const bench = local.bench.find((g) => g.runs.includes(localBench.id))!;
    assert.equal(bench.mode, "in-cluster");
    assert.equal(bench.usd_per_million, costPerMillion(perHour, localBench.rps));
    assert.equal(bench.representative.p99, localBench.latency_ms.p99);
    // Calibration: the control plane's start and the like rollouts, sim against local.
    const rows = report.calibration.rows.filter((x) => x.real_model === "local");
    assert.ok(rows.some((x) => x.stage === "bootstrap"), JSON.stringify(report.calibration));
    assert.ok(rows.some((x) => x.stage === "rollout" && x.phase === "Rollout (total)"));
    for (const x of rows) {
      assert.equal(x.predicted, Math.abs(x.sim_ms - x.real_ms) <= 0.2 * x.real_ms);
    }
    assert.ok(report.gantt.some((g) => g.model === "local" && g.kind === "first good request"));

    const out = await sb0("report.ts", ["--results-dir", results]);
    assert.equal(out.trim(), `${results}/report.html`);
    const page = await openInChromium(`${results}/report.html`, `${results}/report.png`);
    assert.equal(page.rendered, "ok");
    assert.deepEqual(page.problems, []);
    assert.deepEqual(page.requests, [`file://${results}/report.html`]);
    for (const c of page.canvases) {
      assert.ok(c.inked > c.size * 0.01, `${c.id}: ${c.inked} of ${c.size}`);
    }
    assert.ok(page.nonWhite > page.pixels * 0.02);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** Runs a task in a throwaway sandbox; returns its stdout (it must succeed). */
async function sb0(task: string, args: string[]): Promise<string> {
  const sb = await sandbox();
  try {
    const r = await sb.task(task, args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  } finally {
    await sb.cleanup();
  }
}
