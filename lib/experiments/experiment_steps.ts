/**
 * An experiment as a list of steps for `runSteps`: check the cluster (refused in one line when it
 * runs no containers) and the target, put constant load on it from this machine while the cluster
 * is watched and disturbed (chaos: pods killed; autoscale: a load step; background: background
 * work off, then on), then compute the figures from the recorded series and events and write the
 * report and then the result — last, and only when everything before succeeded.
 *
 * The load is open-model (lib/series: requests due at a constant rate, latency from when a request
 * was due), so an outage shows as errors and latency rather than as fewer requests.
 */
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { CncfdemoError, errorMessage, UsageError } from "../errors.ts";
import { connectKube, type Kube, type KubeTarget } from "../kube/client.ts";
import { watchUntil } from "../kube/watch.ts";
import { pollUntil, withTimeout } from "../wait.ts";
import { writeFileAtomic } from "../paths.ts";
import type { Step, StepContext } from "../steps.ts";
import { canRunContainers } from "../bench/can_run_containers.ts";
import { type ClusterFacts, readClusterFacts } from "../bench/cluster_facts.ts";
import { newRunId } from "../bench/result.ts";
import type { SecondSample } from "../series/merge_seconds.ts";
import type { GeneratorSecond } from "../series/second.ts";
import { loadgenPath, runSeries, type SeriesRun, seriesStart } from "../series/series_runner.ts";
import { autoscaleFigures } from "./autoscale_figures.ts";
import { backgroundFigures } from "./background_figures.ts";
import { chaosFigures } from "./chaos_figures.ts";
import { recordEvents } from "./event_recorder.ts";
import type { ExperimentEvent } from "./events.ts";
import { renderExperimentHtml } from "./experiment_html.ts";
import { killContainers } from "./kill_containers.ts";
import { podCpuSeconds } from "./pod_cpu.ts";
import type { DeploymentRef, ExperimentKind } from "./experiment_kinds.ts";

export const EXPERIMENT_SCHEMA = "cncfdemo.experiment/v1";

export interface ExperimentOptions {
  kind: ExperimentKind;
  target: DeploymentRef;
  /** What to load; default: the Service named like the target, its ClusterIP and first port. */
  url?: string | undefined;
  /** Path for the default URL (Countly: /o/ping). */
  defaultPath?: string;
  /** Requests per second in total (chaos, background; autoscale: before the step). */
  rate: number;
  /** chaos, autoscale: the whole run; background: each phase. */
  timeMs: number;
  connections: number;
  parallelism: number;
  requestTimeoutMs: number;
  chaos?: { kill: number; atMs: number; signal?: "KILL" | undefined };
  autoscale?: { toRate: number; stepAtMs: number; sloP99Ms: number };
  background?: { target: DeploymentRef; noLimits: boolean };
  resultsDir: string;
  saveHtml?: string | undefined;
  kube: KubeTarget;
  runId?: string;
  loadgen?: string;
  /** Every merged second, as it ends (for live displays). */
  onSecond?: (s: SecondSample) => void;
  /** Every event as it is recorded (for live displays). */
  onEvent?: (e: ExperimentEvent) => void;
}

export interface ExperimentResult {
  schema: typeof EXPERIMENT_SCHEMA;
  id: string;
  kind: ExperimentKind;
  started_at: string;
  ended_at: string;
  model: string;
  target: { namespace: string; deployment: string; url: string };
  params: Record<string, unknown>;
  load: { model: "open"; generator: string };
  /** Merged per-second samples and each generator's own. */
  series: { merged: SecondSample[]; generators: Record<string, GeneratorSecond[]> };
  events: ExperimentEvent[];
  figures: Record<string, number | boolean | null>;
  cluster: ClusterFacts;
}

export interface ExperimentOutcome {
  result?: ExperimentResult;
  resultPath?: string;
  htmlPath?: string;
}

/** Checks what flag parsing alone cannot; throws a one-line UsageError. */
export function validateExperiment(o: ExperimentOptions): void {
  if (o.timeMs % 1_000 !== 0) {
    throw new UsageError(`Cannot use --time ${o.timeMs}ms: the load runs for whole seconds`);
  }
  if (o.chaos && o.chaos.atMs >= o.timeMs) {
    throw new UsageError(
      `--at ${o.chaos.atMs / 1_000}s is not before the end (--time ${
        o.timeMs / 1_000
      }s): kill earlier or load longer`,
    );
  }
  if (o.autoscale) {
    if (o.autoscale.stepAtMs >= o.timeMs) {
      throw new UsageError(
        `--step-at ${o.autoscale.stepAtMs / 1_000}s is not before the end (--time ${
          o.timeMs / 1_000
        }s)`,
      );
    }
    if (o.autoscale.stepAtMs % 1_000 !== 0) {
      throw new UsageError("--step-at must be whole seconds, e.g. --step-at 20s");
    }
  }
}

const selectorOf = (d: V1Deployment) =>
  Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");

async function readDeployment(kube: Kube, ref: DeploymentRef, what: string) {
  const d = await kube.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace })
    .catch(() => undefined);
  if (!d) {
    throw new CncfdemoError(
      `Cannot find ${what} deployment/${ref.name} in namespace ${ref.namespace}: deploy it first or name another with --${
        what === "the target" ? "target" : "background"
      }`,
    );
  }
  if (!selectorOf(d)) {
    throw new CncfdemoError(`deployment/${ref.name} selects its pods without matchLabels`);
  }
  return d;
}

/**
 * The generators run on this machine and connect directly (no proxy): the URL's host and port
 * must accept a TCP connection here before any load starts (within 15 s: a new Service's rules
 * may still be on their way to kube-proxy).
 */
async function reachable(url: string): Promise<void> {
  const u = new URL(url);
  const target = { hostname: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
  let last = "";
  await pollUntil(async () => {
    try {
      (await withTimeout(Deno.connect(target), 3_000, "no answer within 3s")).close();
      return true;
    } catch (err) {
      last = errorMessage(err);
      return false;
    }
  }, {
    timeoutMs: 15_000,
    maxIntervalMs: 1_000,
    describe: () =>
      `Cannot reach ${url} from this machine (${last}): the load generators run here; pass --url with an address this machine reaches (on a real node a ClusterIP works; elsewhere a NodePort or LoadBalancer)`,
  });
}

const f1 = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(1));

/** The steps of one experiment. */
export function experimentSteps(o: ExperimentOptions, out: ExperimentOutcome = {}): Step[] {
  validateExperiment(o);
  const id = o.runId ?? newRunId();
  const ns = o.target.namespace;
  let kube: Kube;
  let facts: ClusterFacts;
  let url = o.url ?? "";
  let loadgen = o.loadgen ?? "";
  let podSelector = "";
  let service: string | undefined;
  let hpa: string | undefined;
  let background: V1Deployment | undefined;
  const startedAt = new Date();
  let events: ExperimentEvent[] = [];
  const runs: SeriesRun[] = [];
  const cpu: Record<string, number> = {};
  let restoreBackground: (() => Promise<string>) | undefined;

  const check: Step = {
    name: "Check the cluster and the target",
    async run(ctx) {
      ctx.progress("connecting");
      kube = await connectKube(o.kube);
      const cap = await canRunContainers(kube);
      if (!cap.ok) {
        throw new CncfdemoError(
          `Cannot run an experiment here: ${cap.reason}; experiments need a cluster that runs containers (e.g. bootstrap:local)`,
        );
      }
      facts = await readClusterFacts(kube);
      const d = await readDeployment(kube, o.target, "the target");
      podSelector = selectorOf(d);
      const svc = await kube.core.readNamespacedService({ name: o.target.name, namespace: ns })
        .catch(() => undefined);
      service = svc?.metadata?.name;
      if (!url) {
        const port = svc?.spec?.ports?.[0]?.port;
        const ip = svc?.spec?.clusterIP;
        if (!svc || !port || !ip || ip === "None") {
          throw new CncfdemoError(
            `Cannot find a Service ${ns}/${o.target.name} with a ClusterIP and a port to load: pass --url`,
          );
        }
        url = `http://${ip}:${port}${o.defaultPath ?? "/"}`;
      }
      await reachable(url);
      if (o.kind === "autoscale") {
        const hpas = await kube.rest.request<
          {
            items: {
              metadata: { name: string };
              spec: { scaleTargetRef: { kind: string; name: string } };
            }[];
          }
        >("GET", `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`);
        hpa = hpas?.items.find((h) =>
          h.spec.scaleTargetRef.kind === "Deployment" &&
          h.spec.scaleTargetRef.name === o.target.name
        )?.metadata.name;
        if (!hpa) {
          throw new CncfdemoError(
            `No HorizontalPodAutoscaler in namespace ${ns} scales deployment/${o.target.name}: autoscale needs one (kubectl autoscale deployment ${o.target.name} --cpu-percent=50 --max=4)`,
          );
        }
      }
      if (o.background) {
        background = await readDeployment(kube, o.background.target, "the background");
      }
      if (!loadgen) loadgen = await loadgenPath((m) => ctx.progress(m));
      return `${facts.nodes} node(s); deployment/${o.target.name}, ${url}${
        hpa ? `, HPA ${hpa}` : ""
      }`;
    },
  };

  /** Runs the load once, watching the target; `during` acts at times on the series' grid. */
  const loadWithEvents = async (
    ctx: StepContext,
    rate: number,
    durationS: number,
    during: (start: number, add: (e: Omit<ExperimentEvent, "t_unix_ms">) => void) => () => void,
    label = "",
  ) => {
    const rec = recordEvents(kube, {
      namespace: ns,
      podSelector,
      service,
      hpa,
      timeoutMs: durationS * 1_000 + 120_000,
    });
    rec.onEvent = (e) => {
      o.onEvent?.(e);
      if (e.kind !== "pod-created") {
        ctx.note(`${e.kind} ${e.subject}${e.value !== undefined ? ` (${e.value})` : ""}`);
      }
    };
    await rec.synced;
    const start = seriesStart(o.parallelism);
    const cancel = during(start, (e) => rec.add(e));
    try {
      const run = await runSeries({
        url,
        durationS,
        connections: o.connections,
        parallelism: o.parallelism,
        rate,
        ...(o.autoscale && o.kind === "autoscale"
          ? { step: { atS: o.autoscale.stepAtMs / 1_000, rate: o.autoscale.toRate } }
          : {}),
        requestTimeoutS: Math.ceil(o.requestTimeoutMs / 1_000),
        loadgen,
        startUnixMs: start,
      }, {
        onSecond: (s) => {
          o.onSecond?.(s);
          ctx.progress(
            `${label}${s.second + 1}/${durationS}s: ${s.ok} ok, ${s.errors.total} errors, p99 ${
              f1(s.latency_ms.p99)
            } ms`,
          );
        },
      });
      runs.push(run);
    } finally {
      cancel();
      events.push(...await rec.stop());
    }
  };

  const at = (t: number, fn: () => void | Promise<void>, onError: (e: unknown) => void) => {
    const timer = setTimeout(() => Promise.resolve().then(fn).catch(onError), t - Date.now());
    return () => clearTimeout(timer);
  };

  const durationS = o.timeMs / 1_000;
  const load: Step[] = [];
  if (o.kind === "chaos") {
    const c = o.chaos!;
    load.push({
      name: `Load ${o.rate}/s for ${durationS}s; kill ${c.kill} pod(s) at ${c.atMs / 1_000}s`,
      async run(ctx) {
        let failure: unknown;
        await loadWithEvents(
          ctx,
          o.rate,
          durationS,
          (start, add) =>
            at(start + c.atMs, async () => {
              const pods =
                (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: podSelector }))
                  .items.filter((p) => !p.metadata?.deletionTimestamp)
                  .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))
                  .slice(0, c.kill);
              if (pods.length < c.kill) {
                throw new CncfdemoError(
                  `--kill ${c.kill}: deployment/${o.target.name} has only ${pods.length} pod(s)`,
                );
              }
              for (const p of pods) {
                const name = p.metadata!.name!;
                if (c.signal === "KILL") {
                  add({ kind: "kill", subject: name, detail: "SIGKILL to its containers" });
                  await killContainers(kube, [p]);
                } else {
                  add({ kind: "kill", subject: name, detail: "deleted" });
                  await kube.core.deleteNamespacedPod({ name, namespace: ns });
                }
              }
            }, (e) => (failure = e)),
        );
        if (failure) throw failure;
        return `${events.filter((e) => e.kind === "kill").length} pod(s) killed`;
      },
    });
  } else if (o.kind === "autoscale") {
    const a = o.autoscale!;
    load.push({
      name: `Load ${o.rate}/s, then ${a.toRate}/s from ${a.stepAtMs / 1_000}s, for ${durationS}s`,
      async run(ctx) {
        await loadWithEvents(
          ctx,
          o.rate,
          durationS,
          (start, add) =>
            at(
              start + a.stepAtMs,
              () => add({ kind: "step", subject: "rate", value: a.toRate }),
              () => {},
            ),
        );
        const desired = events.filter((e) => e.kind === "hpa-desired").map((e) => e.value ?? 0);
        return `HPA desired replicas ${desired.join(" → ") || "unchanged"}`;
      },
    });
  } else {
    const b = o.background!;
    const bns = b.target.namespace;
    const bname = b.target.name;
    const bpath = `/apis/apps/v1/namespaces/${bns}/deployments/${bname}`;
    const patch = (body: unknown, type: "merge" | "json" | "strategic-merge") =>
      kube.rest.request("PATCH", bpath, { body, contentType: `application/${type}-patch+json` });
    const original = () => background!.spec?.replicas ?? 1;
    const bgSelector = () => selectorOf(background!);
    const bgPods = async () =>
      (await kube.core.listNamespacedPod({ namespace: bns, labelSelector: bgSelector() })).items
        .filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    const isReady = (p: V1Pod) =>
      (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    const waitPods = (n: number, ready: boolean) =>
      watchUntil<V1Pod>(
        kube,
        { apiVersion: "v1", kind: "Pod", namespace: bns, labelSelector: bgSelector() },
        (pods) => pods.length === n && (!ready || pods.every(isReady)),
        {
          timeoutMs: 180_000,
          describe: (pods) =>
            `deployment/${bname}: ${pods.length} pod(s), waiting for ${n}${ready ? " Ready" : ""}`,
        },
      );
    const phase = (name: string) =>
      events.push({ t_unix_ms: Date.now(), kind: "phase", subject: name });
    /** Puts the background back as it was (replicas, CPU limits); on failure too. */
    restoreBackground = async () => {
      const spec = background!.spec!;
      if (b.noLimits) {
        await patch({
          spec: {
            template: {
              spec: {
                containers: spec.template.spec!.containers.map((c) => ({
                  name: c.name,
                  resources: c.resources ?? {},
                })),
              },
            },
          },
        }, "strategic-merge");
      }
      await patch({ spec: { replicas: original() } }, "merge");
      return `deployment/${bname} back to ${original()} replica(s)`;
    };
    const guarded = (fn: (ctx: StepContext) => Promise<string>) => async (ctx: StepContext) => {
      try {
        return await fn(ctx);
      } catch (err) {
        await restoreBackground!().catch(() => {});
        throw err;
      }
    };
    load.push({
      name: `Background off: load ${o.rate}/s for ${durationS}s`,
      run: guarded(async (ctx) => {
        ctx.progress(`scaling deployment/${bname} to 0`);
        await patch({ spec: { replicas: 0 } }, "merge");
        await waitPods(0, false);
        phase("off");
        await loadWithEvents(ctx, o.rate, durationS, () => () => {}, "off ");
        phase("switching");
        cpu.off = 0;
        return "background stopped";
      }),
    }, {
      name: `Background on${
        b.noLimits ? " (no CPU limits)" : ""
      }: load ${o.rate}/s for ${durationS}s`,
      run: guarded(async (ctx) => {
        const replicas = Math.max(1, original());
        if (b.noLimits) {
          ctx.progress("removing the background's CPU limits");
          await patch(
            background!.spec!.template.spec!.containers.flatMap((c, i) =>
              c.resources?.limits?.cpu
                ? [{
                  op: "remove",
                  path: `/spec/template/spec/containers/${i}/resources/limits/cpu`,
                }]
                : []
            ),
            "json",
          );
        }
        await patch({ spec: { replicas } }, "merge");
        ctx.progress(`waiting for ${replicas} background pod(s) Ready`);
        await waitPods(replicas, true);
        const pods = await bgPods();
        const before = await podCpuSeconds(kube, bns, pods);
        phase("on");
        await loadWithEvents(ctx, o.rate, durationS, () => () => {}, "on ");
        phase("end");
        const after = await podCpuSeconds(kube, bns, pods);
        cpu.on = Math.max(0, after.seconds - before.seconds);
        return `the background used ${cpu.on.toFixed(1)} CPU-seconds (${after.source})`;
      }),
    });
  }

  const restore: Step = {
    name: "Restore the background",
    run: () => restoreBackground!(),
  };

  const report: Step = {
    name: "Compute the figures and write the results",
    async run(ctx) {
      events = events.sort((a, b) => a.t_unix_ms - b.t_unix_ms);
      const merged = runs.flatMap((r) => r.seconds);
      const generators: Record<string, GeneratorSecond[]> = {};
      for (const r of runs) {
        for (const [g, s] of Object.entries(r.generators)) (generators[g] ??= []).push(...s);
      }
      let figures: Record<string, number | boolean | null>;
      if (o.kind === "chaos") {
        figures = { ...chaosFigures(merged, events) };
      } else if (o.kind === "autoscale") {
        figures = { ...autoscaleFigures(merged, events, o.autoscale!.sloP99Ms) };
      } else {
        const f = backgroundFigures(merged, events, cpu);
        figures = {
          off_p50_ms: f.off.p50_ms,
          off_p99_ms: f.off.p99_ms,
          off_ok_per_s: f.off.ok_per_s,
          off_errors: f.off.errors,
          on_p50_ms: f.on.p50_ms,
          on_p99_ms: f.on.p99_ms,
          on_ok_per_s: f.on.ok_per_s,
          on_errors: f.on.errors,
          p50_delta_ms: f.p50_delta_ms,
          p99_delta_ms: f.p99_delta_ms,
          throughput_delta_per_s: f.throughput_delta_per_s,
          throughput_delta_pct: f.throughput_delta_pct,
          harvested_cpu_s: f.harvested_cpu_s,
        };
      }
      const result: ExperimentResult = {
        schema: EXPERIMENT_SCHEMA,
        id,
        kind: o.kind,
        started_at: startedAt.toISOString(),
        ended_at: new Date().toISOString(),
        model: facts.model,
        target: { namespace: ns, deployment: o.target.name, url },
        params: {
          rate: o.rate,
          time_s: durationS,
          connections: o.connections,
          parallelism: o.parallelism,
          request_timeout_s: Math.ceil(o.requestTimeoutMs / 1_000),
          ...(o.chaos
            ? { kill: o.chaos.kill, at_s: o.chaos.atMs / 1_000, signal: o.chaos.signal ?? "TERM" }
            : {}),
          ...(o.autoscale
            ? {
              from: o.rate,
              to: o.autoscale.toRate,
              step_at_s: o.autoscale.stepAtMs / 1_000,
              slo_p99_ms: o.autoscale.sloP99Ms,
              hpa,
            }
            : {}),
          ...(o.background
            ? {
              background: `${o.background.target.namespace}/deployment/${o.background.target.name}`,
              no_limits: o.background.noLimits,
            }
            : {}),
        },
        load: { model: "open", generator: runs[0]?.loadgenVersion ?? "" },
        series: { merged, generators },
        events,
        figures,
        cluster: facts,
      };
      out.result = result;
      if (o.saveHtml !== undefined) {
        ctx.progress("rendering the HTML report");
        await writeFileAtomic(o.saveHtml, await renderExperimentHtml(result), 0o644);
        out.htmlPath = o.saveHtml;
      }
      const path = `${o.resultsDir.replace(/\/+$/, "")}/${id}.json`;
      await writeFileAtomic(path, JSON.stringify(result) + "\n", 0o644);
      out.resultPath = path;
      return path;
    },
  };

  return [check, ...load, ...(o.kind === "background" ? [restore] : []), report];
}
