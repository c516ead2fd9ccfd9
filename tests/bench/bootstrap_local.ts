// deno-lint-ignore-file no-console
/**
 * Benchmark of `bootstrap:local` (root, Linux; binaries and image archives cached), on fresh
 * clusters, alternating nothing (one local cluster per machine):
 * - time from the command's start to the node Ready, and to "a pod Ready and DNS answering"
 *   (minikube's time-to-k8s definition: a probe pod, created as soon as the API server answers,
 *   becomes Ready when `dig` resolves kubernetes.default through the cluster's DNS), and to the end
 *   of the command (which also waits for the metrics API);
 * - a re-run on the running cluster (nothing to change);
 * - pod start-up latency of 30 pods created at once (create → Ready, seen through a watch);
 * - the resident memory of the node's components.
 * Published time-to-k8s figures on other hardware, for scale: k3d 19.9 s, kind 33.0 s, minikube
 * 50.8 s (minikube's benchmarks page). Not a test: no assertion on time.
 *
 * Arguments: --runs N (default 3), --pods N (default 30)
 * Example:   sudo deno task bench:local
 */
import { parseArgs } from "node:util";
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { CATALOG } from "../../lib/images/catalog.ts";
import { connectKube, type Kube } from "../../lib/kube/client.ts";
import { watchUntil } from "../../lib/kube/watch.ts";
import { processesMentioning } from "../../lib/stop_processes.ts";
import { pollUntil } from "../../lib/wait.ts";
import { sandbox } from "../support/env.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, pods: { type: "string", default: "30" } },
});
const runs = Number(values.runs);
const podCount = Number(values.pods);
if (Deno.uid() !== 0) throw new Error("bench:local needs root (it starts a real node)");

const ROOT = new URL("../../", import.meta.url).pathname;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

function isReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

const probePod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "time-to-k8s", namespace: "default" },
  spec: {
    containers: [{
      name: "probe",
      image: CATALOG.tools.ref,
      imagePullPolicy: "IfNotPresent",
      command: ["sleep", "3600"],
      readinessProbe: {
        exec: {
          command: [
            "sh",
            "-c",
            "dig +short +time=1 +tries=1 kubernetes.default.svc.cluster.local | grep -q .",
          ],
        },
        periodSeconds: 1,
      },
    }],
  },
};

interface Run {
  node: number;
  dns: number;
  done: number;
}

/** One fresh bootstrap; the probe pod goes in as soon as the admin kubeconfig answers. */
async function freshRun(name: string, env: Record<string, string>, state: string): Promise<Run> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tasks/bootstrap_local.ts`, "--name", name, "--images", "offline"],
    env,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let node = 0;
  let text = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (!node && /✓ +kubelet and kube-proxy/.test(text)) node = performance.now() - t0;
    }
  })();
  const adminConf = `${state}/local/${name}/config/admin.conf`;
  const kube = await pollUntil(
    () => connectKube({ kubeconfig: adminConf }, { timeoutMs: 1_000 }).catch(() => undefined),
    { timeoutMs: 120_000, intervalMs: 100, maxIntervalMs: 200, describe: () => "no API server" },
  );
  // The default namespace appears a moment after the API server answers.
  await pollUntil(
    () => kube.rest.apply(probePod, { fieldManager: "bench" }).then(() => true, () => false),
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      maxIntervalMs: 200,
      describe: () => "cannot create the probe pod",
    },
  );
  await watchUntil<V1Pod>(
    kube,
    {
      apiVersion: "v1",
      kind: "Pod",
      namespace: "default",
      fieldSelector: "metadata.name=time-to-k8s",
    },
    (ps) => ps.length === 1 && isReady(ps[0]!),
    { timeoutMs: 180_000, describe: () => "the probe pod never became Ready" },
  );
  const dns = performance.now() - t0;
  const status = await child.status;
  await reading;
  const done = performance.now() - t0;
  kube.close();
  if (!status.success) throw new Error(`bootstrap:local failed:\n${text}`);
  return { node, dns, done };
}

async function podStartup(kube: Kube, n: number): Promise<number[]> {
  const created = new Map<string, number>();
  const ready = new Map<string, number>();
  const names = Array.from({ length: n }, (_, i) => `start-${i}`);
  const watching = watchUntil<V1Pod>(
    kube,
    { apiVersion: "v1", kind: "Pod", namespace: "default", labelSelector: "bench=startup" },
    (ps) => {
      for (const p of ps) {
        if (isReady(p) && !ready.has(p.metadata!.name!)) {
          ready.set(p.metadata!.name!, performance.now());
        }
      }
      return ready.size === n;
    },
    { timeoutMs: 300_000, describe: () => `${ready.size}/${n} pods Ready` },
  );
  await Promise.all(names.map(async (name) => {
    const t = performance.now();
    await kube.rest.apply(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels: { bench: "startup" } },
        spec: {
          containers: [{
            name: "pause",
            image: CATALOG.pause.ref,
            imagePullPolicy: "IfNotPresent",
            resources: { requests: { cpu: "1m", memory: "4Mi" } },
          }],
        },
      } as KubernetesObject & { apiVersion: string; kind: string },
      { fieldManager: "bench" },
    );
    created.set(name, t);
  }));
  await watching;
  return names.map((name) => ready.get(name)! - created.get(name)!);
}

async function rss(stateDir: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const pid of await processesMentioning(stateDir)) {
    const cmd = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0")[0]!.split("/").pop()!;
    const kib = Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${pid}/status`))?.[1]);
    out.set(cmd, [...(out.get(cmd) ?? []), kib / 1024]);
  }
  return out;
}

const sb = await sandbox();
const name = "benchlocal";
const results: Run[] = [];
try {
  for (let i = 0; i < runs; i++) {
    await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    const r = await freshRun(name, sb.env, sb.env.CNCFDEMO_STATE_DIR!);
    results.push(r);
    console.log(
      `run ${i + 1}: node Ready ${sec(r.node)}, pod Ready + DNS ${sec(r.dns)}, command done ${
        sec(r.done)
      }`,
    );
  }
  const t0 = performance.now();
  const again = await sb.task("bootstrap_local.ts", ["--name", name, "--images", "offline"]);
  if (again.code !== 0) throw new Error(again.stderr);
  const rerun = performance.now() - t0;

  const kube = await connectKube({ kubeconfig: sb.kubeconfig });
  const startup = await podStartup(kube, podCount);
  const mem = await rss(`${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`);
  kube.close();

  console.log("\n| Measure (fresh cluster, caches warm) | median | runs |");
  console.log("|---|---|---|");
  for (
    const [label, key] of [["node Ready", "node"], ["a pod Ready and DNS answering", "dns"], [
      "command done (metrics API available)",
      "done",
    ]] as const
  ) {
    const xs = results.map((r) => r[key]);
    console.log(`| ${label} | ${sec(median(xs))} | ${xs.map(sec).join(", ")} |`);
  }
  console.log(`| re-run on the running cluster | ${sec(rerun)} | 1 |`);
  const dns = median(results.map((r) => r.dns));
  console.log(
    `\ntime-to-k8s ratios (published figures, other hardware): k3d ${
      (dns / 19_900).toFixed(2)
    }, kind ${(dns / 33_000).toFixed(2)}, minikube ${(dns / 50_800).toFixed(2)}`,
  );
  console.log(
    `\npod start-up, ${podCount} pods at once: p50 ${sec(pct(startup, 50))}, p99 ${
      sec(pct(startup, 99))
    }, max ${sec(Math.max(...startup))} (SLO p99 ≤ 5 s)`,
  );
  console.log("\n| Component | RSS (MiB) |\n|---|---|");
  for (const [cmd, xs] of [...mem.entries()].sort((a, b) => b[1][0]! - a[1][0]!)) {
    const total = xs.reduce((a, b) => a + b, 0);
    console.log(
      `| ${cmd}${xs.length > 1 ? ` ×${xs.length}` : ""} | ${total.toFixed(0)}${
        xs.length > 1 ? ` (${(total / xs.length).toFixed(0)} each)` : ""
      } |`,
    );
  }
} finally {
  await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
  await sb.cleanup();
}
