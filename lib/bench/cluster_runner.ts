/**
 * In-cluster mode: one Indexed Job (`app.kubernetes.io/component=wrk`) whose `parallelism` pods
 * each run the wrk image against the target, push their result to the Pushgateway under the run's
 * id (for Prometheus: summary and a bounded latency histogram) and print it whole (JSON, with the
 * exact latency distribution) as the last line of their log. The bench waits for the Job with a
 * watch, reads each generator's result from its pod's log, checks it against what the
 * Pushgateway holds, waits until Prometheus has scraped the run (lib/bench/prometheus_api.ts), and
 * deletes the Job and the Pushgateway groups whatever happened.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { CncfdemoError, errorMessage, TimeoutError } from "../errors.ts";
import type { Kube } from "../kube/client.ts";
import { imagePullProblems, shortenKubeletMessage } from "../kube/readiness.ts";
import { watchUntil } from "../kube/watch.ts";
import { log } from "../log.ts";
import { DEFAULT_GENERATOR_CPU } from "./generator_defaults.ts";
import { formatCpu } from "../quantity.ts";
import { pollUntil } from "../wait.ts";
import { generatorNames } from "./local_runner.ts";
import { awaitScrape, type PrometheusApi, type ScrapeOutcome } from "./prometheus_api.ts";
import { pushedDifference } from "./prometheus_text.ts";
import type { Pushgateway } from "./pushgateway.ts";
import { type GeneratorResult, parseWrkResult } from "./wrk_result.ts";

/** The demo's namespace and the Countly write API (see templates/). */
export const DEMO_NAMESPACE = "cncfdemo";
export const COUNTLY_SECRET = "countly";
export const COUNTLY_SECRET_KEY = "app-key";
/** Countly's write API as the generators reach it, in the demo's namespace. */
export function countlyWriteUrl(namespace: string): string {
  return `http://countly-api.${namespace}:3001/i`;
}
/** The Pushgateway as the generators reach it, in the monitoring namespace. */
export function inClusterPushgateway(monitoringNamespace: string): string {
  return `http://pushgateway.${monitoringNamespace}:9091`;
}

export interface JobOptions {
  runId: string;
  namespace: string;
  image: string;
  parallelism: number;
  /** An explicit URL; without it the Countly write API with the app key from its Secret. */
  url?: string | undefined;
  durationS: number;
  connections: number;
  threads: number;
  /** CPU request of each generator pod, in cores (default {@link DEFAULT_GENERATOR_CPU}). */
  generatorCpu?: number | undefined;
  requestTimeoutS: number;
  statusCounts: boolean;
  /** Where the generators push (default: the in-cluster Service). */
  pushgatewayUrl: string;
  /** How long the Job may run in all, including scheduling and image pulls. */
  deadlineS: number;
}

const LABELS = {
  "app.kubernetes.io/part-of": "cncfdemo",
  "app.kubernetes.io/managed-by": "cncfdemo",
  "app.kubernetes.io/component": "wrk",
};

/** The Job's name for a run. */
export function jobName(runId: string): string {
  return `wrk-${runId}`.toLowerCase().slice(0, 63).replace(/-+$/, "");
}

/** The target as recorded in results: the app key is named, never copied. */
export function displayTarget(
  url: string | undefined,
  runId: string,
  namespace = DEMO_NAMESPACE,
): string {
  return url ??
    `${
      countlyWriteUrl(namespace)
    }?app_key=<secret ${COUNTLY_SECRET}/${COUNTLY_SECRET_KEY}>&device_id=wrk-${runId}-<index>`;
}

/** The Indexed Job that runs the generators. */
export function wrkJob(o: JobOptions): V1Job {
  const name = jobName(o.runId);
  const labels = { ...LABELS, "app.kubernetes.io/instance": name };
  const target = o.url ? [{ name: "WRK_URL", value: o.url }] : [
    {
      name: "COUNTLY_APP_KEY",
      valueFrom: { secretKeyRef: { name: COUNTLY_SECRET, key: COUNTLY_SECRET_KEY } },
    },
    // $(VAR) is expanded by the kubelet: the key never appears in the Job.
    {
      name: "WRK_URL",
      value: `${
        countlyWriteUrl(o.namespace)
      }?app_key=$(COUNTLY_APP_KEY)&device_id=wrk-${o.runId}-$(WRK_INDEX)`,
    },
  ];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: o.namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: o.parallelism,
      parallelism: o.parallelism,
      backoffLimit: 0,
      activeDeadlineSeconds: o.deadlineS,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          affinity: {
            // Never on kwok's simulated nodes; spread the generators over the real ones.
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{
                  matchExpressions: [{ key: "type", operator: "NotIn", values: ["kwok"] }],
                }],
              },
            },
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: {
                  topologyKey: "kubernetes.io/hostname",
                  labelSelector: { matchLabels: { "app.kubernetes.io/instance": name } },
                },
              }],
            },
          },
          containers: [{
            name: "wrk",
            image: o.image,
            // Images imported onto a node offline are used as they are, never pulled again.
            imagePullPolicy: "IfNotPresent",
            env: [
              {
                name: "WRK_INDEX",
                valueFrom: {
                  fieldRef: {
                    fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                  },
                },
              },
              { name: "WRK_GENERATOR", value: "g$(WRK_INDEX)" },
              { name: "WRK_RUN_ID", value: o.runId },
              ...target,
              { name: "WRK_DURATION", value: `${o.durationS}s` },
              { name: "WRK_CONNECTIONS", value: String(o.connections) },
              { name: "WRK_THREADS", value: String(o.threads) },
              { name: "WRK_TIMEOUT", value: `${o.requestTimeoutS}s` },
              { name: "WRK_STATUS_COUNTS", value: o.statusCounts ? "1" : "0" },
              { name: "PUSHGATEWAY_URL", value: o.pushgatewayUrl },
            ],
            // A small CPU request, not one core per wrk thread: a request reserves capacity for
            // scheduling, and generators asking for `threads` CPUs each (2 by default) never fit
            // beside the stack on a 2-vCPU node. No CPU limit: the load is not throttled, wrk
            // uses whatever CPU is idle (throttling would measure the limit, not the target).
            resources: {
              requests: { cpu: formatCpu(o.generatorCpu ?? DEFAULT_GENERATOR_CPU), memory: "64Mi" },
              limits: { memory: "256Mi" },
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          }],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}

export interface ClusterRunOptions extends JobOptions {
  /** Time allowed for the generators to start (scheduling, image pull). */
  startTimeoutMs: number;
  progress: (message: string) => void;
  /** Prometheus, waited for until it has scraped the run before the groups are deleted. */
  prometheus?: PrometheusApi | undefined;
}

export interface ClusterRun {
  results: GeneratorResult[];
  /** What Prometheus did with the results before their groups went (undefined: not asked). */
  scrape?: ScrapeOutcome | undefined;
}

/** The first line of the Lua script's JSON result in a generator's log (stdout and stderr). */
const RESULT_LINE = '{"schema":"cncfdemo.wrk/v1"';

/** A generator's result from its pod's log: the last cncfdemo.wrk/v1 line. */
export function resultFromLog(log: string, origin: string): GeneratorResult {
  const line = log.split("\n").findLast((l) => l.startsWith(RESULT_LINE));
  if (!line) {
    throw new CncfdemoError(`${origin} printed no result (a cncfdemo.wrk/v1 line) in its log`);
  }
  return parseWrkResult(line, origin);
}

/** The completion index of a Job's pod (Indexed Jobs), as a generator name `g<index>`. */
function generatorOf(pod: V1Pod): string | undefined {
  const index = pod.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"];
  return index === undefined ? undefined : `g${index}`;
}

/** How long a succeeded generator's log may take to hold its whole result line. */
const LOG_SETTLE_MS = 10_000;

/** Each generator's result, read from the log of its succeeded pod. */
async function resultsFromLogs(
  kube: Kube,
  namespace: string,
  job: string,
  generators: readonly string[],
  target: string,
): Promise<GeneratorResult[]> {
  const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` }))
    .items;
  return await Promise.all(generators.map(async (g) => {
    const pod = pods.find((p) => generatorOf(p) === g && p.status?.phase === "Succeeded");
    if (!pod) {
      throw new CncfdemoError(`Job ${namespace}/${job} has no succeeded pod for generator ${g}`);
    }
    const name = pod.metadata!.name!;
    const origin = `generator ${g} (pod ${namespace}/${name})`;
    // The runtime may still be copying the end of a long last line to the log when the pod is
    // reported Succeeded (seen on a real node: a result cut at 32 KiB): read until it is whole.
    let why: unknown;
    const result = await pollUntil(async () => {
      const text = String(
        await kube.core.readNamespacedPodLog({ name, namespace, container: "wrk" }),
      );
      try {
        return resultFromLog(text, origin);
      } catch (e) {
        why = e;
        return undefined;
      }
    }, {
      timeoutMs: LOG_SETTLE_MS,
      intervalMs: 200,
      describe: () => errorMessage(why),
    }).catch((e) => {
      throw e instanceof TimeoutError && why instanceof CncfdemoError ? why : e;
    });
    if (result.generator !== g) {
      throw new CncfdemoError(
        `Pod ${namespace}/${name} printed the result of generator ${result.generator}, not ${g}`,
      );
    }
    return { ...result, target };
  }));
}

function jobFailed(job: V1Job | undefined): boolean {
  return (job?.status?.failed ?? 0) > 0 ||
    (job?.status?.conditions ?? []).some((c) => c.type === "Failed" && c.status === "True");
}

/** One line on why the Job's pods failed: the first failed pod's reason and last log lines. */
async function failureDetail(kube: Kube, ns: string, name: string): Promise<string> {
  try {
    const pods = (await kube.core.listNamespacedPod({
      namespace: ns,
      labelSelector: `job-name=${name}`,
    })).items;
    const failed = pods.find((p: V1Pod) => p.status?.phase === "Failed") ?? pods[0];
    if (!failed) return "no pod was created";
    const term = failed.status?.containerStatuses?.[0]?.state?.terminated;
    const waiting = failed.status?.containerStatuses?.[0]?.state?.waiting;
    let logs = "";
    try {
      logs = String(
        await kube.core.readNamespacedPodLog({
          name: failed.metadata!.name!,
          namespace: ns,
          tailLines: 3,
        }),
      ).trim().split("\n").join(" | ");
    } catch { /* no logs */ }
    const why = term
      ? `exit code ${term.exitCode}${term.reason ? ` (${term.reason})` : ""}`
      : waiting
      ? `${waiting.reason}: ${waiting.message ?? ""}`
      : failed.status?.reason ?? failed.status?.phase ?? "unknown";
    return `pod ${failed.metadata?.name}: ${why}${logs ? `; last lines: ${logs}` : ""}`;
  } catch (err) {
    return errorMessage(err);
  }
}

/**
 * Runs the Job, waits for it, reads every generator's result from its log and checks it against
 * the Pushgateway, waits for Prometheus to scrape them, and cleans up the Job and the Pushgateway
 * groups.
 */
export async function runClusterGenerators(
  kube: Kube,
  pushgateway: Pushgateway,
  o: ClusterRunOptions,
): Promise<ClusterRun> {
  const name = jobName(o.runId);
  const generators = generatorNames(o.parallelism);
  let created = false;
  try {
    await kube.batch.createNamespacedJob({ namespace: o.namespace, body: wrkJob(o) });
    created = true;
    const t0 = performance.now();
    let runningSince: number | undefined;
    let job: V1Job | undefined;
    const tick = () => {
      const s = job?.status;
      const active = s?.ready ?? s?.active ?? 0;
      if (active > 0 && runningSince === undefined) runningSince = performance.now();
      const elapsed = runningSince === undefined ? 0 : (performance.now() - runningSince) / 1e3;
      o.progress(
        runningSince === undefined
          ? `waiting for ${o.parallelism} generator pod(s) to start (${
            Math.round((performance.now() - t0) / 1e3)
          }s)`
          : `${active}/${o.parallelism} running, ${s?.succeeded ?? 0} done; elapsed ${
            Math.round(elapsed)
          }s, remaining ~${Math.max(0, Math.round(o.durationS - elapsed))}s`,
      );
    };
    const timer = setInterval(tick, 1_000);
    // The generators' pods are watched beside the Job: an image that cannot be pulled is named
    // within seconds, not after --start-timeout.
    const stop = new AbortController();
    const pulls = watchUntil<V1Pod>(
      kube,
      { apiVersion: "v1", kind: "Pod", namespace: o.namespace, labelSelector: `job-name=${name}` },
      () => false,
      {
        timeoutMs: o.startTimeoutMs + o.durationS * 1_000 + 60_000,
        describe: () => "",
        signal: stop.signal,
        fail: (pods) => {
          const p = imagePullProblems(pods)[0];
          if (!p) return undefined;
          const why = shortenKubeletMessage(p.message);
          return `Cannot pull ${p.image} for the wrk generators (${p.reason}${
            why ? `: ${why}` : ""
          }): make it available (deno task bake --target images) or pass --image`;
        },
      },
    ).then(
      // Only a pull failure ends the race from here: the Job's own wait decides the rest.
      () => new Promise<never>(() => {}),
      (err) => {
        if (stop.signal.aborted || err instanceof TimeoutError) return new Promise<never>(() => {});
        throw err;
      },
    );
    try {
      await Promise.race([
        pulls,
        watchUntil<V1Job>(
          kube,
          {
            apiVersion: "batch/v1",
            kind: "Job",
            namespace: o.namespace,
            fieldSelector: `metadata.name=${name}`,
          },
          (jobs) => {
            job = jobs[0];
            return (job?.status?.succeeded ?? 0) >= o.parallelism || jobFailed(job);
          },
          {
            timeoutMs: o.startTimeoutMs + o.durationS * 1_000 + 60_000,
            describe: (jobs) =>
              `Job ${o.namespace}/${name} did not finish: ${
                jobs[0]?.status?.succeeded ?? 0
              } of ${o.parallelism} generators done, ${jobs[0]?.status?.active ?? 0} active`,
            onChange: (jobs) => {
              job = jobs[0];
              tick();
            },
            signal: stop.signal,
          },
        ),
      ]);
    } finally {
      clearInterval(timer);
      stop.abort();
    }
    if (jobFailed(job)) {
      throw new CncfdemoError(
        `The wrk Job ${o.namespace}/${name} failed: ${await failureDetail(
          kube,
          o.namespace,
          name,
        )}`,
      );
    }
    const results = await resultsFromLogs(
      kube,
      o.namespace,
      name,
      generators,
      displayTarget(o.url, o.runId, o.namespace),
    );
    const found = await pushgateway.collect(o.runId);
    const missing = generators.filter((g) => !found.has(g));
    if (missing.length) {
      throw new CncfdemoError(
        `Generator${missing.length > 1 ? "s" : ""} ${missing.join(", ")} pushed no result to the ` +
          `Pushgateway (${pushgateway.where}); see kubectl -n ${o.namespace} logs job/${name}`,
      );
    }
    for (const r of results) {
      const why = pushedDifference(found.get(r.generator)!, r);
      if (why) {
        throw new CncfdemoError(
          `Generator ${r.generator} pushed a result to the Pushgateway (${pushgateway.where}) that differs from its log: ${why}`,
        );
      }
    }
    // The groups stay until Prometheus has them: deleted now, Grafana's wrk panels stay empty.
    const scrape = o.prometheus
      ? await awaitScrape(o.prometheus, o.runId, generators, o.progress)
      : undefined;
    if (scrape?.state === "deadline") log.warn(`${scrape.detail}: deleting its groups anyway`);
    return { results, scrape };
  } finally {
    await pushgateway.deleteRun(o.runId, generators);
    if (created) {
      await kube.batch.deleteNamespacedJob({
        name,
        namespace: o.namespace,
        propagationPolicy: "Background",
      }).catch((err) =>
        log.warn(`Could not delete Job ${o.namespace}/${name}: ${errorMessage(err)}`)
      );
    }
  }
}
