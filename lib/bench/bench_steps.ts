/**
 * The benchmark as a list of steps for `runSteps`: check everything that can be checked before
 * loading anything (target, Pushgateway, cluster), run the generators (local wrk processes or an
 * in-cluster Job) with elapsed/remaining progress, merge them exactly, and write the report and
 * then the result file — last, atomically, and only when everything before succeeded.
 *
 * `deno task bench` runs these steps; `deno task demo` runs them for its closing benchmark.
 */
import { CncfdemoError, UsageError } from "../errors.ts";
import { connectKube, type Kube, type KubeTarget } from "../kube/client.ts";
import { log } from "../log.ts";
import { writeFileAtomic } from "../paths.ts";
import type { Step, StepContext } from "../steps.ts";
import { canRunContainers } from "./can_run_containers.ts";
import { type ClusterFacts, readClusterFacts } from "./cluster_facts.ts";
import {
  COUNTLY_SECRET,
  COUNTLY_SECRET_KEY,
  DEMO_NAMESPACE,
  displayTarget,
  inClusterPushgateway,
  runClusterGenerators,
} from "./cluster_runner.ts";
import { DEFAULT_WRK_IMAGE } from "./generator_defaults.ts";
import { deployedNamespaces } from "./deployed_namespaces.ts";
import { renderHtmlReport } from "./html_report.ts";
import { generatorNames, runLocalGenerators, wrkVersion } from "./local_runner.ts";
import { mergeGenerators } from "./merge.ts";
import { awaitScrape, PrometheusApi } from "./prometheus_api.ts";
import { pushedDifference } from "./prometheus_text.ts";
import { Pushgateway } from "./pushgateway.ts";
import {
  type BenchParams,
  type BenchResult,
  buildResult,
  newRunId,
  type PerSecond,
  readResults,
  writeResult,
} from "./result.ts";
import type { GeneratorResult } from "./wrk_result.ts";
import { childrenCpuSeconds } from "./children_cpu.ts";
import { emitUi, uiOpen } from "../ui/emit.ts";
import { showSecond } from "../ui/second_series.ts";
import { loadgenPath, runSeries } from "../series/series_runner.ts";
import { generatorFromSeconds } from "./series_generators.ts";
import { run } from "../run_program.ts";

export interface BenchOptions {
  /** Run wrk on this machine instead of in the cluster. */
  local: boolean;
  /** The URL to load; required with `local`; in the cluster default: Countly's write API. */
  url?: string | undefined;
  timeMs: number;
  /** Connections per generator. */
  connections: number;
  /** wrk threads per generator. */
  threads: number;
  /** In-cluster: each generator pod's CPU request, in cores (default 250m; no limit). */
  generatorCpu?: number | undefined;
  parallelism: number;
  requestTimeoutMs: number;
  statusCounts: boolean;
  /** A Pushgateway URL; in the cluster default: Service monitoring/pushgateway. */
  pushgateway?: string | undefined;
  /**
   * A Prometheus URL to wait for before the Pushgateway groups go (it must have scraped them); in
   * the cluster default: Service monitoring/prometheus, when it is there.
   */
  prometheus?: string | undefined;
  resultsDir: string;
  /** Where to write the HTML report (undefined: none). */
  saveHtml?: string | undefined;
  /** In-cluster: where the cluster is, the image, the namespace, how long pods may take to start. */
  kube?: KubeTarget;
  image?: string;
  namespace?: string;
  startTimeoutMs?: number;
  /** The wrk program for local mode (default `wrk` on PATH). */
  wrk?: string;
  /**
   * Local mode: load with cncfdemo-loadgen (lib/series) instead of wrk — the same closed-model
   * load — recording every second (the result's `per_second`, the live view's charts).
   */
  perSecond?: boolean;
  runId?: string;
}

/** Filled in as the steps run. */
export interface BenchOutcome {
  runId?: string;
  result?: BenchResult;
  resultPath?: string;
  htmlPath?: string;
}

/**
 * The short in-cluster benchmark `deno task demo` ends with: 10 s, one generator, 16 connections,
 * against Countly's write API, results in `results/`. Ask {@link canRunContainers} first.
 */
export function demoBenchOptions(kube: KubeTarget, resultsDir = "results"): BenchOptions {
  return {
    local: false,
    timeMs: 10_000,
    connections: 16,
    threads: 2,
    parallelism: 1,
    requestTimeoutMs: 2_000,
    statusCounts: false,
    resultsDir,
    kube,
  };
}

/** Checks option combinations that flag parsing alone cannot; throws a one-line UsageError. */
export function validateBenchOptions(o: BenchOptions): void {
  if (o.local && !o.url) {
    throw new UsageError(
      "--local needs --url: the URL to load, e.g. --url http://127.0.0.1:8080/",
    );
  }
  if (o.connections < o.threads) {
    throw new UsageError(
      `--connections ${o.connections} is fewer than --threads ${o.threads}: wrk needs at least one connection per thread`,
    );
  }
  if (o.perSecond && (!o.local || o.pushgateway || o.statusCounts)) {
    throw new UsageError(
      `--per-second goes with --local, without ${
        !o.local ? "the cluster" : o.pushgateway ? "--pushgateway" : "--status-counts"
      }: the per-second generator runs on this machine and counts errors by class only`,
    );
  }
  if (o.timeMs % 1_000 !== 0) {
    throw new UsageError(
      `Cannot use --time ${o.timeMs}ms: wrk runs for whole seconds; write e.g. --time 30s`,
    );
  }
  if (o.requestTimeoutMs % 1_000 !== 0) {
    throw new UsageError(
      `Cannot use --request-timeout ${o.requestTimeoutMs}ms: wrk takes whole seconds`,
    );
  }
}

function progressTimer(ctx: StepContext, durationS: number): () => void {
  const t0 = performance.now();
  const id = setInterval(() => {
    const elapsed = (performance.now() - t0) / 1_000;
    ctx.progress(
      `elapsed ${Math.round(elapsed)}s, remaining ~${
        Math.max(0, Math.round(durationS - elapsed))
      }s`,
    );
  }, 1_000);
  return () => clearInterval(id);
}

/**
 * With a view open (`--ui`), the local generators' CPU each second as a live series (read from
 * /proc: the load is not disturbed); nothing otherwise.
 */
function streamGeneratorCpu(wrk: string): () => void {
  if (!uiOpen()) return () => {};
  const comm = wrk.split("/").at(-1)!.slice(0, 15);
  let last: { t: number; cpu: number } | undefined;
  let busy = false;
  const id = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const cpu = await childrenCpuSeconds(comm);
      const t = performance.now();
      if (last && cpu >= last.cpu) {
        const cores = (cpu - last.cpu) / ((t - last.t) / 1_000);
        emitUi({ type: "series", t, name: "generator CPU (cores)", values: { cores } });
      }
      last = { t, cpu };
    } finally {
      busy = false;
    }
  }, 1_000);
  return () => clearInterval(id);
}

/** The steps of one benchmark run. */
export function benchSteps(o: BenchOptions, out: BenchOutcome = {}): Step[] {
  validateBenchOptions(o);
  const runId = o.runId ?? newRunId();
  out.runId = runId;
  const durationS = o.timeMs / 1_000;
  const params: BenchParams = {
    duration_s: durationS,
    connections: o.connections,
    threads: o.threads,
    parallelism: o.parallelism,
    request_timeout_s: o.requestTimeoutMs / 1_000,
    status_counts: o.statusCounts,
  };
  // Found on the cluster when the demo was rolled out with other namespaces (see prepare).
  let namespace = o.namespace ?? DEMO_NAMESPACE;
  let monitoring = "monitoring";
  let kube: Kube | undefined;
  let facts: ClusterFacts | null = null;
  let pushgateway: Pushgateway | undefined;
  let prometheus: PrometheusApi | undefined;
  let scraped = "";
  let generators: GeneratorResult[] = [];
  let startedAt = new Date();
  let endedAt = new Date();
  let version: string | null = null;
  let loadgen = "";
  let perSecond: PerSecond[] | undefined;

  const prepare: Step = {
    name: o.local
      ? (o.perSecond ? "Check the load generator" : "Check wrk and the Pushgateway")
      : "Check the cluster",
    async run(ctx) {
      if (o.local && o.perSecond) {
        loadgen = await loadgenPath((m) => ctx.progress(m));
        version = (await run(loadgen, ["-version"])).stdout.trim();
        return version;
      }
      if (o.local) {
        version = await wrkVersion(o.wrk);
        if (version === null) {
          throw new CncfdemoError(
            `Cannot run ${
              o.wrk ?? "wrk"
            }: it is not installed or not on PATH; install Debian's wrk package (apt-get install wrk)`,
          );
        }
        if (o.pushgateway) {
          pushgateway = Pushgateway.at(o.pushgateway);
          await pushgateway.checkReady();
        }
        return `${version}${pushgateway ? `, Pushgateway ${pushgateway.where}` : ""}`;
      }
      ctx.progress("connecting");
      kube = await connectKube(o.kube ?? {});
      const cap = await canRunContainers(kube);
      if (!cap.ok) {
        throw new CncfdemoError(
          `Cannot benchmark in the cluster: ${cap.reason}; run "deno task bench --local --url URL" against a server instead`,
        );
      }
      facts = await readClusterFacts(kube);
      const deployed = await deployedNamespaces(kube);
      namespace = o.namespace ?? deployed.app ?? namespace;
      monitoring = deployed.monitoring ?? monitoring;
      if (!o.url) {
        const secret = await kube.core.readNamespacedSecret({
          name: COUNTLY_SECRET,
          namespace,
        }).catch(() => undefined);
        if (!secret?.data?.[COUNTLY_SECRET_KEY]) {
          throw new CncfdemoError(
            `Cannot find Countly's app key (Secret ${namespace}/${COUNTLY_SECRET}, key ${COUNTLY_SECRET_KEY}): deploy the demo first (deno task demo) or pass --url`,
          );
        }
      }
      if (o.pushgateway) {
        pushgateway = Pushgateway.at(o.pushgateway);
      } else {
        await kube.core.readNamespacedService({ name: "pushgateway", namespace: monitoring })
          .catch(() => {
            throw new CncfdemoError(
              `Cannot find the Pushgateway (Service ${monitoring}/pushgateway): deploy the demo first or pass --pushgateway URL`,
            );
          });
        pushgateway = Pushgateway.viaKube(kube, monitoring);
      }
      prometheus = o.prometheus
        ? PrometheusApi.at(o.prometheus)
        : PrometheusApi.viaKube(kube, monitoring);
      await pushgateway.checkReady();
      return `${facts.nodes} nodes, Kubernetes ${facts.kubernetes_version}`;
    },
  };

  /** The load of local generators, whichever program makes it. */
  const localLoad = {
    url: o.url!,
    durationS,
    connections: o.connections,
    threads: o.threads,
    parallelism: o.parallelism,
    requestTimeoutS: o.requestTimeoutMs / 1_000,
  };

  /** Runs local generators (`program`) with elapsed/remaining progress and their live CPU. */
  async function loading<T>(ctx: StepContext, program: string, fn: () => Promise<T>): Promise<T> {
    const stopTimer = progressTimer(ctx, durationS);
    const stopCpu = streamGeneratorCpu(program);
    try {
      return await fn();
    } finally {
      stopTimer();
      stopCpu();
    }
  }

  const load: Step = {
    name: `Run ${o.parallelism} generator${o.parallelism > 1 ? "s" : ""} for ${durationS}s`,
    async run(ctx) {
      startedAt = new Date();
      if (o.local && o.perSecond) {
        const series = await loading(ctx, loadgen, () =>
          runSeries({
            ...localLoad,
            loadgen,
            onLine: (l) => log.debug(l),
          }, { onSecond: showSecond }));
        endedAt = new Date();
        const target = new URL(o.url!);
        target.search = "";
        generators = Object.entries(series.generators).map(([g, seconds]) =>
          generatorFromSeconds(g, seconds, { runId, target: target.href, durationS })
        );
        perSecond = series.seconds.map(({ histogram: _, ...rest }) => rest);
      } else if (o.local) {
        const local = await loading(ctx, o.wrk ?? "wrk", () =>
          runLocalGenerators({
            ...localLoad,
            runId,
            statusCounts: o.statusCounts,
            ...(o.wrk ? { wrk: o.wrk } : {}),
            onLine: (l) => log.debug(l),
          }));
        endedAt = new Date();
        generators = local.map((g) => g.result);
        if (pushgateway) {
          ctx.progress("pushing to the Pushgateway");
          const names = generatorNames(o.parallelism);
          try {
            for (const g of local) {
              await pushgateway.push(runId, g.result.generator, g.prometheus);
            }
            const back = await pushgateway.collect(runId);
            generators = local.map((g) => {
              const b = back.get(g.result.generator);
              const why = b ? pushedDifference(b, g.result) : "nothing pushed";
              if (why) {
                throw new CncfdemoError(
                  `The Pushgateway at ${
                    pushgateway!.where
                  } returned a different result for generator ${g.result.generator} of run ${runId}: ${why}`,
                );
              }
              return { ...g.result, endedAtUnix: b!.endedAtUnix ?? g.result.endedAtUnix };
            });
            if (o.prometheus) {
              const scrape = await awaitScrape(
                PrometheusApi.at(o.prometheus),
                runId,
                names,
                (m) => ctx.progress(m),
              );
              if (scrape.state === "deadline") {
                log.warn(`${scrape.detail}: deleting its groups anyway`);
              }
              scraped = scrape.detail;
            }
          } finally {
            await pushgateway.deleteRun(runId, names);
          }
        }
      } else {
        const run = await runClusterGenerators(kube!, pushgateway!, {
          runId,
          namespace,
          image: o.image ?? DEFAULT_WRK_IMAGE,
          parallelism: o.parallelism,
          url: o.url,
          durationS,
          connections: o.connections,
          threads: o.threads,
          generatorCpu: o.generatorCpu,
          requestTimeoutS: o.requestTimeoutMs / 1_000,
          statusCounts: o.statusCounts,
          pushgatewayUrl: o.pushgateway ?? inClusterPushgateway(monitoring),
          deadlineS: Math.round((o.startTimeoutMs ?? 300_000) / 1_000) + durationS + 60,
          startTimeoutMs: o.startTimeoutMs ?? 300_000,
          progress: (m) => ctx.progress(m),
          prometheus,
        });
        generators = run.results;
        scraped = run.scrape?.detail ?? "";
        endedAt = new Date();
      }
      const requests = generators.reduce((n, g) => n + g.requests, 0);
      if (requests === 0) {
        const e = generators.reduce(
          (a, g) => ({
            connect: a.connect + g.errors.connect,
            timeout: a.timeout + g.errors.timeout,
          }),
          { connect: 0, timeout: 0 },
        );
        throw new CncfdemoError(
          `No request completed against ${
            o.url ?? "Countly"
          } (${e.connect} connect errors, ${e.timeout} timeouts): is the target up?`,
        );
      }
      return `${requests.toLocaleString("en-US")} requests${scraped ? `; ${scraped}` : ""}`;
    },
  };

  const report: Step = {
    name: "Merge and write the results",
    async run(ctx) {
      const merged = mergeGenerators(generators);
      const result = buildResult({
        id: runId,
        startedAt,
        endedAt,
        model: o.local ? "local" : (facts as ClusterFacts | null)?.model ?? "kubernetes",
        target: o.local ? o.url! : displayTarget(o.url, runId, namespace),
        params,
        merged,
        cluster: facts,
        host: o.local
          ? { hostname: Deno.hostname(), os: Deno.build.os, cpus: navigator.hardwareConcurrency }
          : null,
        wrkVersion: version,
        pushgateway: pushgateway?.where ?? null,
      });
      if (perSecond) result.per_second = perSecond;
      out.result = result;
      if (o.saveHtml !== undefined) {
        ctx.progress("rendering the HTML report");
        const html = await renderHtmlReport(result, await readResults(o.resultsDir));
        await writeFileAtomic(o.saveHtml, html, 0o644);
        out.htmlPath = o.saveHtml;
      }
      // Last: the result file exists only for a run that fully succeeded.
      out.resultPath = await writeResult(o.resultsDir, result);
      return out.resultPath;
    },
  };

  return [prepare, load, report];
}
