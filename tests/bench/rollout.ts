// deno-lint-ignore-file no-console
/**
 * Benchmark: `deno task rollout` against the usual manual way on the same simulated cluster —
 * `kubectl apply --server-side` of the `render` output, then `kubectl rollout status` for every
 * Deployment, StatefulSet and DaemonSet and `kubectl wait` for the Jobs and the autoscaler (the
 * same objects the rollout waits for). Runs alternate, each from an empty cluster (teardown --apps
 * in between, not timed; one untimed round first). Also times the rollout's no-op re-run, and, for
 * a like-for-like view, kubectl driven wave by wave in the rollout's own order (apply a wave, wait
 * for it, next; the autoscalers applied with the configuration, as the rollout does).
 * Prints medians and the ratios.
 *
 * Arguments: --runs N (default 3)
 * Example:   deno task bench:rollout
 */
import { parseArgs } from "node:util";
import { resolveBinaries } from "../../lib/binaries.ts";
import { run } from "../../lib/run_program.ts";
import { sandbox } from "../support/env.ts";
import { stringify } from "yaml";
import { renderStack } from "../../lib/stack/render.ts";
import { freshSecrets } from "../../lib/stack/secrets.ts";
import { resolveValues } from "../../lib/stack/values.ts";
import {
  APP_WAVES,
  appliedIn,
  COMMON_WAVES,
  MONITORING_WAVES,
  type WaveId,
  waveOf,
} from "../../lib/stack/waves.ts";
import type { Rendered } from "../../lib/stack/render.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
const kubectl = (await resolveBinaries(["kubectl"], { noBuild: true })).paths.kubectl;
const SETS = ["--set", "mongo.persistence.enabled=false"];

const sb = await sandbox();
const name = "bench-rollout";
const k = (...args: string[]) => run(kubectl, ["--kubeconfig", sb.kubeconfig, ...args]);

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function task(file: string, args: string[]) {
  const r = await sb.task(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")}: ${r.stderr}`);
  return r;
}

try {
  await task("bootstrap_sim.ts", ["--name", name, "--nodes", "3"]);
  const manifest = `${sb.dir}/all.yaml`;
  await Deno.writeTextFile(manifest, (await task("render.ts", SETS)).stdout);

  // The same objects split by wave, for kubectl driven in the rollout's order.
  const objects = await renderStack(await resolveValues([], [SETS[1]!]), freshSecrets());
  const waveFile = async (waves: readonly WaveId[], tag: string) => {
    const objs = objects.filter((o) => waves.includes(waveOf(o)));
    const path = `${sb.dir}/wave-${tag}.yaml`;
    await Deno.writeTextFile(path, objs.map((o) => stringify(o)).join("---\n"));
    return { path, objs };
  };
  const waitFor = async (objs: readonly Rendered[]) => {
    for (const o of objs) {
      const ref = `${o.kind.toLowerCase()}/${o.metadata.name}`;
      const ns = ["-n", o.metadata.namespace ?? "default"];
      if (o.metadata.annotations?.["cncfdemo.io/wait"] === "false") continue;
      if (["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind)) {
        await k("rollout", "status", ...ns, ref, "--timeout=5m");
      }
      if (o.kind === "Job") await k("wait", ...ns, "--for=condition=complete", ref, "--timeout=5m");
      if (o.kind === "HorizontalPodAutoscaler") {
        await k("wait", ...ns, "--for=condition=AbleToScale", ref, "--timeout=5m");
      }
    }
  };
  // Waves applied early (autoscalers, with the configuration) are waited for in their own place.
  const kubectlInWaves = async () => {
    for (const w of COMMON_WAVES) {
      const f = await waveFile(appliedIn(w), w);
      if (f.objs.length) {
        await k("apply", "--server-side", "--field-manager=kubectl-bench", "-f", f.path);
      }
    }
    const track = async (waves: readonly WaveId[]) => {
      for (const w of waves) {
        const f = await waveFile(appliedIn(w), w);
        if (f.objs.length) {
          await k("apply", "--server-side", "--field-manager=kubectl-bench", "-f", f.path);
        }
        await waitFor(objects.filter((o) => waveOf(o) === w));
      }
    };
    await Promise.all([track(APP_WAVES), track(MONITORING_WAVES)]);
  };

  const ours: number[] = [];
  const theirs: number[] = [];
  const waves: number[] = [];
  const noop: number[] = [];
  // One untimed round first: the first workloads on a new cluster come up slower (whoever runs
  // first would pay for it).
  await task("rollout.ts", SETS);
  await task("teardown.ts", ["--apps"]);
  for (let i = 0; i < runs; i++) {
    ours.push(await timed(async () => void await task("rollout.ts", SETS)));
    noop.push(await timed(async () => void await task("rollout.ts", SETS)));
    await task("teardown.ts", ["--apps"]);
    theirs.push(
      await timed(async () => {
        await k("apply", "--server-side", "--field-manager=kubectl-bench", "-f", manifest);
        for (
          const [ns, kinds] of [["monitoring", ["deployment", "daemonset"]], ["cncfdemo", [
            "statefulset",
            "deployment",
          ]]] as const
        ) {
          for (const kind of kinds) {
            const names = (await k("get", kind, "-n", ns, "-o", "name")).stdout.split("\n").filter(
              Boolean,
            );
            for (const n of names) {
              if (n.endsWith("/boinc")) continue; // background work: not waited for by the rollout either
              await k("rollout", "status", "-n", ns, n, "--timeout=5m");
            }
          }
        }
        await k(
          "wait",
          "-n",
          "cncfdemo",
          "--for=condition=complete",
          "job",
          "--all",
          "--timeout=5m",
        );
        await k(
          "wait",
          "-n",
          "cncfdemo",
          "--for=condition=AbleToScale",
          "hpa/countly-api",
          "--timeout=5m",
        );
      }),
    );
    // the kubectl-applied objects carry the same labels: teardown --apps removes them too
    await task("teardown.ts", ["--apps"]);
    waves.push(await timed(kubectlInWaves));
    await task("teardown.ts", ["--apps"]);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
  console.log(
    `rollout vs kubectl apply --server-side + rollout status/wait, ${runs} alternating runs, 3 sim nodes`,
  );
  console.log(`rollout (fresh):  median ${s(median(ours))}  runs ${ours.map(s).join(", ")}`);
  console.log(`kubectl:          median ${s(median(theirs))}  runs ${theirs.map(s).join(", ")}`);
  console.log(`ratio rollout / kubectl: ${(median(ours) / median(theirs)).toFixed(2)}`);
  console.log(`kubectl in waves: median ${s(median(waves))}  runs ${waves.map(s).join(", ")}`);
  console.log(`ratio rollout / kubectl in waves: ${(median(ours) / median(waves)).toFixed(2)}`);
  console.log(`rollout no-op re-run: median ${s(median(noop))}  runs ${noop.map(s).join(", ")}`);
} finally {
  await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
  await sb.cleanup();
}
