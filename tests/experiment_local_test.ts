/**
 * `deno task experiment` on a real node (bootstrap:local, images built here), one cluster for all:
 * chaos on 1 replica (errors, and a recovery between the kill and the end) and on 3 replicas (its
 * figures), autoscale (events in causal order, the HPA above where it started), background (both
 * phases, harvested CPU-seconds, foreground p99 in each) — and the HTML reports rendered by
 * headless Chromium with no console error, no request outside the file and a non-blank screenshot.
 * Countly cannot run here: the targets are nginx (the bench-target image) behind Services, the
 * background a CPU-burning low-priority pod (BOINC gets no work offline). Linux and root only.
 */
import assert from "node:assert/strict";
import type { ExperimentResult } from "../lib/experiments/experiment_steps.ts";
import { mergeSecond } from "../lib/series/merge_seconds.ts";
import { openInChromium } from "./support/chromium.ts";
import { applyExperimentWorkloads, NS } from "./support/experiment_workloads.ts";
import type { Sandbox } from "./support/env.ts";
import { canRunLocal, withLocalCluster } from "./support/local_cluster.ts";

async function experiment(sb: Sandbox, args: string[]): Promise<ExperimentResult> {
  const r = await sb.task("experiment.ts", [
    ...args,
    "--namespace",
    NS,
    "--results-dir",
    `${sb.dir}/results`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const path = r.stdout.trim();
  assert.match(path, /\.json$/);
  const result = JSON.parse(await Deno.readTextFile(path)) as ExperimentResult;
  assert.equal(result.schema, "cncfdemo.experiment/v1");
  return result;
}

/** The report renders offline: charts drawn, nothing fetched, no console error, not blank. */
async function checkHtml(sb: Sandbox, r: ExperimentResult, canvases: string[]) {
  const html = `${sb.dir}/results/${r.id}.html`;
  const page = await openInChromium(html, `${sb.dir}/results/${r.id}.png`);
  assert.equal(page.rendered, "ok");
  assert.deepEqual(page.problems, []);
  assert.deepEqual(page.requests, [`file://${html}`]);
  assert.deepEqual(page.canvases.map((c) => c.id), canvases);
  for (const c of page.canvases) {
    assert.ok(c.inked > c.size * 0.005, `${c.id}: ${c.inked} of ${c.size} pixels inked`);
  }
  assert.ok(page.text.includes(r.id));
  assert.ok(page.colours > 20 && page.nonWhite > page.pixels * 0.02, "the screenshot is not blank");
}

const endOf = (r: ExperimentResult) => r.series.merged.at(-1)!.t_unix_ms + 1_000;
const firstEvent = (r: ExperimentResult, kind: string) =>
  r.events.find((e) => e.kind === kind)?.t_unix_ms;

Deno.test({
  name: "experiments on a real node: chaos (1 and 3 replicas), autoscale, background, HTML",
  ignore: !canRunLocal,
}, async (t) => {
  await withLocalCluster([], async ({ sb, kube }) => {
    await applyExperimentWorkloads(kube);

    await t.step(
      "chaos on 1 replica: errors, then a recovery between the kill and the end",
      async () => {
        const r = await experiment(sb, [
          "chaos",
          "--target",
          "deployment/web1",
          "--rate",
          "200",
          "--at",
          "4s",
          "--time",
          "14s",
          "--save-html",
        ]);
        const f = r.figures;
        const kill = firstEvent(r, "kill")!;
        assert.equal(f.kill_at_unix_ms, kill);
        assert.ok((f.errors as number) > 0, `errors: ${f.errors}`);
        assert.ok(f.time_to_first_error_s !== null);
        assert.equal(f.recovered, true, JSON.stringify(f));
        const recovery = f.recovery_s as number;
        assert.ok(recovery > 0 && kill + recovery * 1_000 < endOf(r), JSON.stringify(f));
        assert.ok((f.dip_requests as number) > 0);
        // The events tell the story: the pod killed goes NotReady, a new pod becomes Ready.
        const killed = r.events.find((e) => e.kind === "kill")!.subject;
        const newReady = r.events.find((e) =>
          e.kind === "pod-ready" && e.subject !== killed && e.t_unix_ms > kill
        );
        assert.ok(newReady, JSON.stringify(r.events));
        // Per-generator series and merged series agree (one generator: they are the same counts).
        assert.deepEqual(
          r.series.generators.g0!.map((s) => s.responses),
          r.series.merged.map((s) => s.responses),
        );
        await checkHtml(sb, r, ["throughput", "latency", "replicas", "spectrum"]);
      },
    );

    await t.step("chaos on 3 replicas: the run reports its figures", async () => {
      const r = await experiment(sb, [
        "chaos",
        "--target",
        "deployment/web3",
        "--rate",
        "200",
        "--at",
        "4s",
        "--time",
        "10s",
        "--parallelism",
        "2",
      ]);
      const f = r.figures;
      assert.ok((f.baseline_ok_per_s as number) > 150, JSON.stringify(f));
      assert.equal(typeof f.errors, "number");
      assert.equal(typeof f.recovered, "boolean");
      assert.ok((f.seconds_after_kill as number) >= 5);
      assert.deepEqual(Object.keys(r.series.generators).sort(), ["g0", "g1"]);
      // Each merged second is the exact merge of the two generators' seconds.
      for (const s of r.series.merged) {
        const parts = Object.values(r.series.generators).map((g) =>
          g.find((x) => x.second === s.second)!
        );
        assert.deepEqual(s, mergeSecond(parts));
        assert.ok(parts.every((p) => p.responses > 0), "both generators loaded every second");
      }
    });

    await t.step(
      "autoscale: step < decision < first Ready ≤ all Ready, HPA above its start",
      async () => {
        const r = await experiment(sb, [
          "autoscale",
          "--target",
          "deployment/webhpa",
          "--from",
          "50",
          "--to",
          "1500",
          "--step-at",
          "5s",
          "--time",
          "45s",
          "--slo-p99",
          "50ms",
          "--save-html",
        ]);
        const f = r.figures;
        assert.ok((f.max_desired as number) > (f.desired_at_step as number), JSON.stringify(f));
        const decision = f.step_to_decision_s as number;
        const first = f.step_to_first_ready_s as number;
        const all = f.step_to_all_ready_s as number;
        assert.ok(decision > 0 && first > decision && all >= first, JSON.stringify(f));
        await checkHtml(sb, r, ["throughput", "latency", "replicas", "spectrum"]);
      },
    );

    await t.step(
      "background: both phases, harvested CPU-seconds, foreground p99 in each",
      async () => {
        const r = await experiment(sb, [
          "background",
          "--target",
          "deployment/web1",
          "--background",
          "deployment/burner",
          "--rate",
          "200",
          "--time",
          "6s",
          "--save-html",
        ]);
        const f = r.figures;
        const phases = r.events.filter((e) => e.kind === "phase").map((e) => e.subject);
        assert.deepEqual(phases, ["off", "switching", "on", "end"]);
        assert.ok((f.harvested_cpu_s as number) > 0, JSON.stringify(f));
        assert.ok((f.off_p99_ms as number) > 0 && (f.on_p99_ms as number) > 0, JSON.stringify(f));
        assert.ok((f.off_ok_per_s as number) > 0 && (f.on_ok_per_s as number) > 0);
        // The background is back as it was.
        const d = await kube.apps.readNamespacedDeployment({ name: "burner", namespace: NS });
        assert.equal(d.spec?.replicas, 1);
        await checkHtml(sb, r, ["throughput", "latency", "replicas", "spectrum"]);
      },
    );
  });
});
