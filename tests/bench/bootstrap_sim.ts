// deno-lint-ignore-file no-console
/**
 * Benchmark: `bootstrap:sim` warm (binaries cached) for 3 and for 1,000 nodes, against the same
 * work done by hand with the raw tools — `kwokctl create cluster` + `kwokctl scale node` +
 * `kubectl wait --for=condition=Ready nodes --all` — run side by side, alternating, on fresh
 * clusters. Prints wall times (median of the runs) and the ratio ours / raw. Not a test: no
 * assertion on time.
 *
 * Arguments: --runs N (default 3), --sizes 3,1000
 * Example:   deno task bench:self
 */
import { parseArgs } from "node:util";
import { resolveBinaries, SIM_BINARIES } from "../../lib/binaries.ts";
import { run } from "../../lib/run_program.ts";
import { sandbox } from "../support/env.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, sizes: { type: "string", default: "3,1000" } },
});
const runs = Number(values.runs);
const sizes = values.sizes!.split(",").map(Number);
const bins = (await resolveBinaries(SIM_BINARIES, { noBuild: true })).paths;

async function ours(nodes: number): Promise<number> {
  const sb = await sandbox();
  const name = `bench-${nodes}`;
  try {
    const t0 = performance.now();
    const r = await sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", String(nodes)]);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(r.stderr);
    return ms;
  } finally {
    await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
  }
}

async function raw(nodes: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-bench-raw-" });
  const env = { KWOK_WORKDIR: dir, KWOK_RUNTIME: "binary", KWOK_KUBECTL_BINARY: bins.kubectl };
  const name = `raw-${nodes}`;
  const kubeconfig = `${dir}/clusters/${name}/kubeconfig.yaml`;
  try {
    const t0 = performance.now();
    await run(bins.kwokctl, [
      "create",
      "cluster",
      "--name",
      name,
      "--runtime",
      "binary",
      "--kubeconfig",
      "",
      "--kube-apiserver-binary",
      bins["kube-apiserver"],
      "--kube-controller-manager-binary",
      bins["kube-controller-manager"],
      "--kube-scheduler-binary",
      bins["kube-scheduler"],
      "--kwok-controller-binary",
      bins.kwok,
      "--etcd-binary",
      bins.etcd,
      "--disable-qps-limits",
    ], { env });
    await run(bins.kwokctl, [
      "scale",
      "node",
      "--name",
      name,
      "--replicas",
      String(nodes),
      "--param",
      '.allocatable.cpu="8"',
      "--param",
      '.allocatable.memory="32Gi"',
    ], { env });
    await run(bins.kubectl, [
      "--kubeconfig",
      kubeconfig,
      "wait",
      "--for=condition=Ready",
      "nodes",
      "--all",
      "--timeout=300s",
    ]);
    return performance.now() - t0;
  } finally {
    await run(bins.kwokctl, ["delete", "cluster", "--name", name], { env, allowFailure: true });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

console.log(`bootstrap:sim (warm) vs raw kwokctl + kubectl wait, ${runs} alternating runs each`);
console.log(
  "nodes | bootstrap:sim (median, runs)           | raw (median, runs)                     | ratio",
);
for (const n of sizes) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await ours(n));
    b.push(await raw(n));
  }
  console.log(
    `${String(n).padStart(5)} | ${s(median(a)).padStart(7)} (${a.map(s).join(", ")}) | ${
      s(median(b)).padStart(7)
    } (${b.map(s).join(", ")}) | ${(median(a) / median(b)).toFixed(2)}`,
  );
}
