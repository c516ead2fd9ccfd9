/**
 * Provider `sim`: a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) run as local processes by kwokctl (`--runtime binary`), with nodes simulated by
 * the kwok controller. Everything listens on 127.0.0.1 only. Cluster state lives in
 * `<state>/kwok/clusters/<name>`; the kube context is `sim-<name>`.
 */
import type { V1Node } from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import {
  type BinaryName,
  resolveBinaries,
  type Resolved,
  SIM_BINARIES,
  VERSIONS,
} from "../binaries.ts";
import { CncfdemoError, errorMessage } from "../errors.ts";
import { connectKube, defaultKubeconfigPath, type Kube } from "../kube/client.ts";
import { mergeKubeEntry, removeKubeEntry } from "../kube/kubeconfig.ts";
import { watchUntil } from "../kube/watch.ts";
import { METRICS_APISERVICE, waitForMetricsApi } from "../addons/metrics_server.ts";
import { log } from "../log.ts";
import { cacheDir, exists, stateDir, writeFileAtomic } from "../paths.ts";
import { processesMentioning, stopProcesses } from "../stop_processes.ts";
import { run } from "../run_program.ts";
import { formatBytes, formatCpu } from "../quantity.ts";
import type { Step } from "../steps.ts";
import { Deadline, pollUntil } from "../wait.ts";
import { lockFile } from "../file_lock.ts";
import type { Provider } from "./provider.ts";

export interface SimCreateOptions {
  name: string;
  nodes: number;
  /** Allocatable CPU per node, in cores. */
  nodeCpu: number;
  /** Allocatable memory per node, in bytes. */
  nodeMemory: number;
  nodePods: number;
  /** A directory with the binaries, instead of the cache. */
  binDir?: string | undefined;
  /** The kubeconfig to merge the context into (default: first of KUBECONFIG, or ~/.kube/config). */
  kubeconfig?: string | undefined;
  /** The bootstrap's deadline (from now), shared by its waits: API server, nodes, metrics API. */
  timeoutMs: number;
}

export interface SimDeleteOptions {
  name: string;
  kubeconfig?: string | undefined;
}

/** The resource metrics API that metrics-server serves (autoscalers read CPU through it). */

/** The label kwokctl puts on the nodes it scales. */
export const SIM_NODE_LABEL = "kwok.x-k8s.io/kwokctl-scale=node";

/** The kwok work directory (all simulated clusters). */
export function kwokWorkdir(): string {
  return `${stateDir()}/kwok`;
}

/** The state directory of one simulated cluster. */
export function simClusterDir(name: string): string {
  return `${kwokWorkdir()}/clusters/${name}`;
}

function kwokEnv(kubectl: string): Record<string, string> {
  return { KWOK_WORKDIR: kwokWorkdir(), KWOK_RUNTIME: "binary", KWOK_KUBECTL_BINARY: kubectl };
}

/**
 * What kwokctl registers for its metrics-server (it runs the binary, not this Deployment-less
 * manifest): the Service in front of it and the APIService of the resource metrics API. kwokctl
 * otherwise downloads upstream's components.yaml; this local kustomization keeps every byte on the
 * machine. The API server reaches metrics-server on 127.0.0.1, whose serving certificate is
 * kwokctl's admin certificate (no SAN for the Service), hence the one unverified hop, inside a
 * simulated cluster on loopback.
 */
export const SIM_METRICS_SERVER_MANIFEST = `apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels: {k8s-app: metrics-server}
spec:
  ports:
    - {name: https, port: 443, protocol: TCP, targetPort: https}
  selector: {k8s-app: metrics-server}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels: {k8s-app: metrics-server}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: {name: metrics-server, namespace: kube-system}
`;

/** The directory of that kustomization (kwokctl builds it with `kubectl kustomize`). */
function metricsServerManifestDir(): string {
  return `${kwokWorkdir()}/metrics-server`;
}

/**
 * kwokctl configuration: every component binds to loopback only (kwokctl's default is 0.0.0.0);
 * metrics-server's manifest comes from the local kustomization, and metrics-server
 * - reaches every node at its Hostname address, `localhost`, where the kwok controller serves the
 *   simulated nodes' metrics: kwok's nodes' InternalIPs (192.0.2.x, a documentation range) are
 *   not on this machine, and kwokctl would have it dial them first;
 * - resolves every 10s (its minimum; its request timeout must stay below) instead of 15s: a new
 *   pod's CPU rate needs two scrapes before an autoscaler can use it.
 */
function kwokctlConfig(): string {
  return `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  metricsServerManifests:
    - ${metricsServerManifestDir()}
componentsPatches:
  - name: metrics-server
    extraArgs:
      - {key: kubelet-preferred-address-types, value: Hostname, override: true}
      - {key: metric-resolution, value: 10s, override: true}
      - {key: kubelet-request-timeout, value: 5s}
`;
}

async function kwokctl(bins: Resolved["paths"], args: string[], onLine?: (line: string) => void) {
  const config = `${kwokWorkdir()}/kwokctl.yaml`;
  const manifests = metricsServerManifestDir();
  await writeFileAtomic(`${manifests}/metrics-server.yaml`, SIM_METRICS_SERVER_MANIFEST, 0o644);
  await writeFileAtomic(
    `${manifests}/kustomization.yaml`,
    "resources:\n  - metrics-server.yaml\n",
    0o644,
  );
  await writeFileAtomic(config, kwokctlConfig(), 0o644);
  const r = await run(bins.kwokctl, ["--config", config, ...args], {
    env: kwokEnv(bins.kubectl),
    ...(onLine ? { onLine: (l) => onLine(l) } : {}),
    allowFailure: true,
  });
  if (r.code !== 0) {
    throw new CncfdemoError(
      `kwokctl ${args.slice(0, 2).join(" ")} failed: ${kwokError(r.stderr + r.stdout)}`,
    );
  }
  return r;
}

/** The reason in kwokctl's JSON error lines: the last `err` (or message) at level ERROR. */
export function kwokError(output: string): string {
  let reason = "";
  for (const line of output.split("\n")) {
    try {
      const o = JSON.parse(line) as { level?: string; msg?: string; err?: string };
      if (o.level === "ERROR") reason = (o.err ?? o.msg ?? reason).trim();
    } catch {
      if (line.trim() && !reason) reason = line.trim();
    }
  }
  return reason.replace(/\s+/g, " ") || "see --verbose";
}

/** The message field of kwokctl's JSON log lines (or the line itself). */
function kwokMessage(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: string };
    return o.msg ?? line;
  } catch {
    return line;
  }
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function capacityMatches(node: V1Node, o: SimCreateOptions): boolean {
  const a = node.status?.allocatable ?? {};
  return a.cpu === formatCpu(o.nodeCpu) && a.memory === formatBytes(o.nodeMemory) &&
    a.pods === String(o.nodePods);
}

/**
 * kwokctl gives each component (etcd, API server, kwok, metrics-server) the next port below 32767
 * that it can bind at that moment, skipping only the ports of clusters in the same state directory
 * (kwok's pkg/utils/net/unused_port.go): two clusters created at once on this machine, or from two
 * state directories, can get the same ports. One `kwokctl create` at a time, machine-wide: an
 * exclusive lock on a file in the shared cache, held until the control plane is up, released when
 * the returned file is disposed or the process ends.
 */
function oneKwokctlCreateAtATime(progress: (m: string) => void): Promise<Deno.FsFile> {
  return lockFile(
    `${cacheDir()}/.kwokctl-create.lock`,
    () => progress("waiting for another cluster's control plane start"),
  );
}

/** The kube context (and cluster and user entries) of a simulated cluster. */
function simContext(name: string): string {
  return `sim-${name}`;
}

/** Reads kwokctl's kubeconfig for the cluster and inlines its certificates. */
async function contextEntry(name: string) {
  const dir = simClusterDir(name);
  const text = await Deno.readTextFile(`${dir}/kubeconfig.yaml`);
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  if (!server) {
    throw new CncfdemoError(`Cannot read the API server address from ${dir}/kubeconfig.yaml`);
  }
  const b64 = async (file: string) =>
    Buffer.from(await Deno.readFile(`${dir}/pki/${file}`)).toString("base64");
  return {
    name: simContext(name),
    server,
    certificateAuthorityData: await b64("ca.crt"),
    clientCertificateData: await b64("admin.crt"),
    clientKeyData: await b64("admin.key"),
  };
}

export const simProvider: Provider<SimCreateOptions, SimDeleteOptions> = {
  id: "sim",

  contextName: simContext,

  async list() {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(`${kwokWorkdir()}/clusters`)) {
        if (e.isDirectory) names.push(e.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return names.sort();
  },

  bootstrapSteps(o, info) {
    let bins: Resolved;
    let kube: Kube;
    let startError: unknown;
    const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
    const context = simContext(o.name);
    // One deadline for every wait of the bootstrap (kind's `until`), from the task's --timeout.
    const until = new Deadline(o.timeoutMs);
    Object.assign(info, { provider: "sim", name: o.name, context, kubeconfig });
    const steps: Step[] = [
      {
        name: "Get binaries",
        async run(ctx) {
          bins = await resolveBinaries(SIM_BINARIES, { binDir: o.binDir, progress: ctx.progress });
          const built = Object.entries(bins.sources).filter(([, s]) => s === "built").map(([n]) =>
            n
          );
          const how = new Set(Object.values(bins.sources));
          return built.length ? `built ${built.join(", ")}` : [...how].join(" + ") +
            ` (Kubernetes ${VERSIONS.kubernetes}, etcd ${VERSIONS.etcd}, kwok ${VERSIONS.kwok})`;
        },
      },
      {
        name: `Start control plane "${o.name}"`,
        async run(ctx) {
          using _ports = await oneKwokctlCreateAtATime(ctx.progress);
          const existed = await exists(`${simClusterDir(o.name)}/kwok.yaml`);
          const flag = (n: BinaryName) => bins.paths[n];
          const create = kwokctl(bins.paths, [
            "create",
            "cluster",
            "--name",
            o.name,
            "--runtime",
            "binary",
            "--kubeconfig",
            "",
            "--kube-apiserver-binary",
            flag("kube-apiserver"),
            "--kube-controller-manager-binary",
            flag("kube-controller-manager"),
            "--kube-scheduler-binary",
            flag("kube-scheduler"),
            "--kwok-controller-binary",
            flag("kwok"),
            "--etcd-binary",
            flag("etcd"),
            // metrics-server on kwok's simulated resource usage (1m CPU and 1Mi per container, or
            // the pod annotations kwok.x-k8s.io/usage-cpu and usage-memory): autoscalers get
            // metrics and report ScalingActive, as on a real cluster.
            "--enable",
            "metrics-server",
            "--metrics-server-binary",
            flag("metrics-server"),
            "--kube-authorization=true",
            "--kube-admission=true",
            "--disable-qps-limits",
            "--timeout",
            `${Math.max(Math.ceil(until.left() / 1000), 1)}s`,
            // A simulated cluster reconciles autoscalers every 5s instead of 15s: demos and tests
            // see scaling sooner; nothing else changes.
            "--extra-args",
            "kube-controller-manager=horizontal-pod-autoscaler-sync-period=5s",
          ], (line) => ctx.progress(kwokMessage(line)));
          try {
            await create;
          } catch (err) {
            // kwokctl creates its resources (metrics-server's simulated usage) right after it
            // starts the processes, before it waits for the API server: when the API server does
            // not answer, the next step's wait says so, and where its logs are.
            if (
              !/failed to init crd?s/.test(errorMessage(err)) ||
              !(await exists(`${simClusterDir(o.name)}/kubeconfig.yaml`))
            ) throw err;
            startError = err;
            return "started; kwokctl could not create its resources (the API server?)";
          }
          return existed ? "reused the existing cluster" : "created";
        },
      },
      {
        name: `Merge kube context ${context}`,
        async run(ctx) {
          const entry = await contextEntry(o.name);
          info.server = entry.server;
          await mergeKubeEntry(kubeconfig, entry, true);
          ctx.progress("waiting for the API server");
          kube = await pollUntil(
            () => connectKube({ kubeconfig, context }, { timeoutMs: 2_000 }).catch(() => undefined),
            {
              deadline: until,
              describe: () =>
                `The API server at ${entry.server} did not answer ${until.within}; its logs are in ${
                  simClusterDir(o.name)
                }/logs (deno task teardown --provider sim --name ${o.name} removes the cluster)`,
            },
          );
          // the API server answers, so kwokctl's failure was something else: report it
          if (startError) throw startError;
          // Answering is not ready: the default RBAC roles (cluster-admin, ...) come with the
          // post-start hooks /readyz waits for, and a binding to a missing role grants nothing.
          ctx.progress("waiting for /readyz");
          let last = "";
          await pollUntil(async () => {
            last = await kube.rest.requestText("GET", "/readyz").catch((e) => errorMessage(e));
            return last.trim() === "ok";
          }, {
            deadline: until,
            describe: () =>
              `The API server at ${entry.server} was not ready ${until.within} (/readyz: ${last})`,
          });
          // A component started before the API server answered may have exited (metrics-server
          // panics at once when it cannot read its request-header CA); kwokctl starts again only
          // the components that are not running.
          await kwokctl(bins.paths, ["start", "cluster", "--name", o.name]);
          return `${kubeconfig} (current context)`;
        },
      },
      {
        name: `Scale to ${o.nodes} node${o.nodes === 1 ? "" : "s"}`,
        async run(ctx) {
          const { items } = await kube.core.listNode({ labelSelector: SIM_NODE_LABEL });
          const stale = items.filter((n) => !capacityMatches(n, o));
          for (const n of stale) {
            ctx.progress(`replacing ${n.metadata?.name} (capacity changed)`);
            await kube.core.deleteNode({ name: n.metadata!.name! });
          }
          const before = items.length - stale.length;
          await kwokctl(bins.paths, [
            "scale",
            "node",
            "--name",
            o.name,
            "--replicas",
            String(o.nodes),
            "--param",
            `.allocatable.cpu="${formatCpu(o.nodeCpu)}"`,
            "--param",
            `.allocatable.memory="${formatBytes(o.nodeMemory)}"`,
            "--param",
            `.allocatable.pods="${o.nodePods}"`,
          ], (line) => ctx.progress(kwokMessage(line)));
          if (before === o.nodes && stale.length === 0) return "unchanged";
          return `${before} → ${o.nodes}${
            stale.length ? ` (${stale.length} replaced for new capacity)` : ""
          }`;
        },
      },
      {
        name: "Wait for nodes Ready",
        async run(ctx) {
          const nodes = await watchUntil<V1Node>(
            kube,
            { apiVersion: "v1", kind: "Node", labelSelector: SIM_NODE_LABEL },
            (ns) => ns.length === o.nodes && ns.every(isReady),
            {
              timeoutMs: until.left(),
              describe: (ns) =>
                `Only ${
                  ns.filter(isReady).length
                } of ${o.nodes} nodes became Ready (${ns.length} exist)`,
              onChange: (ns) => ctx.progress(`${ns.filter(isReady).length}/${o.nodes} Ready`),
            },
          );
          return `${nodes.length} Ready (${formatCpu(o.nodeCpu)} CPU, ${
            formatBytes(o.nodeMemory)
          }, ${o.nodePods} pods each)`;
        },
      },
      {
        name: "Wait for the metrics API",
        async run(ctx) {
          // metrics-server answers once it has scraped the kwok controller's simulated nodes;
          // until then the API server reports the APIService as not Available.
          await waitForMetricsApi(kube, {
            timeoutMs: until.left(),
            progress: ctx.progress,
            hint: `metrics-server's log is ${simClusterDir(o.name)}/logs/metrics-server.log`,
          });
          return `${METRICS_APISERVICE} Available (metrics-server on simulated usage)`;
        },
      },
    ];
    return steps;
  },

  teardownSteps(o) {
    const dir = simClusterDir(o.name);
    const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
    return [
      {
        name: `Delete simulated cluster "${o.name}"`,
        async run(ctx) {
          const had = await exists(dir);
          const recorded: number[] = [];
          if (had) {
            try {
              for await (const e of Deno.readDir(`${dir}/pids`)) {
                const pid = Number((await Deno.readTextFile(`${dir}/pids/${e.name}`)).trim());
                if (Number.isInteger(pid) && pid > 0) recorded.push(pid);
              }
            } catch {
              // no pid files: a half-created cluster
            }
            // kwokctl stops the components and removes the state; without kwokctl (cache wiped)
            // the processes are stopped and the directory removed below.
            const bins = await resolveBinaries(["kwokctl", "kubectl"], { noBuild: true }).catch(
              () => undefined,
            );
            if (bins) {
              ctx.progress("kwokctl delete cluster");
              await kwokctl(bins.paths, ["delete", "cluster", "--name", o.name]).catch((err) =>
                log.debug(`kwokctl delete failed: ${err}`)
              );
            }
          }
          const leftovers = [...new Set([...recorded, ...(await processesMentioning(dir))])];
          const stopped = await stopProcesses(leftovers);
          await Deno.remove(dir, { recursive: true }).catch((err) => {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          });
          const still = await processesMentioning(dir);
          if (still.length) {
            throw new CncfdemoError(
              `Processes of cluster "${o.name}" are still running: pids ${still.join(", ")}`,
            );
          }
          if (!had) return "nothing to delete";
          return stopped.length
            ? `deleted (stopped ${stopped.length} leftover processes)`
            : "deleted";
        },
      },
      {
        name: `Remove kube context ${simContext(o.name)}`,
        async run() {
          return (await removeKubeEntry(kubeconfig, simContext(o.name)))
            ? `removed from ${kubeconfig}`
            : "not present";
        },
      },
    ];
  },
};
