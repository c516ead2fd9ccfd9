/**
 * Prometheus' HTTP API as the benchmark uses it: which targets it scrapes (and how often), and
 * instant queries. Reached at a URL (tests, a Prometheus of your own) or through the Kubernetes
 * API server's service proxy (the in-cluster Service `prometheus` in namespace `monitoring`), like
 * the Pushgateway.
 *
 * {@link awaitScrape} is what keeps a run's Pushgateway groups until Prometheus has them: the
 * Pushgateway forgets a group the moment it is deleted, and Prometheus scrapes it only every
 * scrape interval (15 s by default), so a group deleted right after the run never reaches
 * Prometheus or Grafana.
 */
import { CncfdemoError, errorMessage, TimeoutError } from "../errors.ts";
import { parseDuration } from "../duration.ts";
import type { Kube } from "../kube/client.ts";
import { connectionProblem, KubeApiError } from "../kube/errors.ts";
import { pollUntil } from "../wait.ts";
import { PUSH_JOB } from "./pushgateway.ts";

export interface Target {
  labels: Record<string, string>;
  scrapePool?: string;
  scrapeUrl?: string;
  /** `15s` */
  scrapeInterval?: string;
  health?: string;
}

export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

interface Transport {
  readonly where: string;
  /** GET `path` (`api/v1/query?query=…`); undefined when Prometheus is not there (404). */
  get(path: string): Promise<string | undefined>;
}

export class PrometheusApi {
  private constructor(private readonly t: Transport) {}

  /** Prometheus at a URL. */
  static at(url: string, timeoutMs = 10_000): PrometheusApi {
    const base = url.replace(/\/+$/, "");
    return new PrometheusApi({
      where: base,
      async get(path) {
        let res: Response;
        try {
          res = await fetch(`${base}/${path}`, { signal: AbortSignal.timeout(timeoutMs) });
        } catch (err) {
          throw new CncfdemoError(
            `Cannot reach Prometheus at ${base}: ${connectionProblem(err)}`,
            { cause: err },
          );
        }
        const text = await res.text();
        if (res.status === 404) return undefined;
        if (!res.ok) {
          throw new CncfdemoError(
            `Prometheus at ${base} answered ${res.status}: ${text.trim().slice(0, 200)}`,
          );
        }
        return text;
      },
    });
  }

  /** The in-cluster Service, through the API server's service proxy. */
  static viaKube(
    kube: Kube,
    namespace = "monitoring",
    service = "prometheus",
    port = 9090,
  ): PrometheusApi {
    const name = `${service}:${port}`;
    return new PrometheusApi({
      where: `service ${namespace}/${name} (through the API server)`,
      async get(path) {
        try {
          const text = await kube.rest.requestText(
            "GET",
            `/api/v1/namespaces/${namespace}/services/${name}/proxy/${path}`,
            { allow404: true },
          );
          return text === "" ? undefined : text;
        } catch (err) {
          // 503: the Service has no ready endpoint (Prometheus switched off or not up)
          if (err instanceof KubeApiError && err.status === 503) return undefined;
          throw new CncfdemoError(
            `Cannot reach Prometheus (service ${namespace}/${service}:${port}) through the API server: ${
              connectionProblem(err)
            }`,
            { cause: err },
          );
        }
      },
    });
  }

  get where(): string {
    return this.t.where;
  }

  private async data<T>(path: string): Promise<T | undefined> {
    const text = await this.t.get(path);
    if (text === undefined) return undefined;
    let body: { status?: string; data?: T; error?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new CncfdemoError(`Prometheus (${this.where}) answered ${path} with no JSON`);
    }
    if (body.status !== "success") {
      throw new CncfdemoError(
        `Prometheus (${this.where}) refused ${path.split("?")[0]}: ${body.error ?? "no reason"}`,
      );
    }
    return body.data;
  }

  /** Active targets; undefined when Prometheus does not answer (not deployed, not ready). */
  async activeTargets(): Promise<Target[] | undefined> {
    const d = await this.data<{ activeTargets?: Target[] }>("api/v1/targets?state=active");
    return d === undefined ? undefined : d.activeTargets ?? [];
  }

  /** An instant query's series. */
  async query(expr: string): Promise<Series[]> {
    const d = await this.data<{ result?: Series[] }>(
      `api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    return d?.result ?? [];
  }
}

/** How a run's results fared with Prometheus before their Pushgateway groups went. */
export interface ScrapeOutcome {
  /** `scraped`: Prometheus has every generator's series; the others say why not waited for. */
  state: "scraped" | "no-prometheus" | "not-scraped-by-prometheus" | "deadline";
  /** A few words for the step's detail line. */
  detail: string;
  /** The Pushgateway job's scrape interval (ms), when Prometheus scrapes it. */
  intervalMs?: number;
}

/** Extra time beyond one scrape interval: a scrape in flight, the TSDB's head append. */
export const SCRAPE_MARGIN_MS = 10_000;

/**
 * Waits until Prometheus has scraped the run's results from the Pushgateway: the query
 * `wrk_requests_total{run_id=…}` returns every generator. Waits no longer than two of the
 * Pushgateway job's scrape intervals plus {@link SCRAPE_MARGIN_MS} (a scrape may have just
 * missed the push); then says so, and the groups are deleted anyway. Prometheus absent, or not
 * scraping the Pushgateway: nothing to wait for.
 */
export async function awaitScrape(
  prometheus: PrometheusApi,
  runId: string,
  generators: readonly string[],
  progress: (message: string) => void = () => {},
  marginMs = SCRAPE_MARGIN_MS,
): Promise<ScrapeOutcome> {
  let targets: Target[] | undefined;
  try {
    targets = await prometheus.activeTargets();
  } catch (err) {
    return { state: "no-prometheus", detail: `Prometheus not asked: ${errorMessage(err)}` };
  }
  if (targets === undefined) {
    return { state: "no-prometheus", detail: "no Prometheus to wait for" };
  }
  const target = targets.find((t) => t.labels.job === "pushgateway");
  if (!target) {
    return {
      state: "not-scraped-by-prometheus",
      detail: "Prometheus does not scrape the Pushgateway",
    };
  }
  const intervalMs = parseDuration(target.scrapeInterval ?? "15s") ?? 15_000;
  const deadlineMs = 2 * intervalMs + marginMs;
  const want = new Set(generators);
  const expr = `wrk_requests_total{job=${JSON.stringify(PUSH_JOB)},run_id=${
    JSON.stringify(runId)
  }}`;
  const t0 = performance.now();
  try {
    await pollUntil(
      async () => {
        const seen = new Set((await prometheus.query(expr)).map((s) => s.metric.generator));
        const missing = [...want].filter((g) => !seen.has(g));
        progress(
          `waiting for Prometheus to scrape the results (every ${
            target.scrapeInterval ?? "15s"
          }): ${want.size - missing.length}/${want.size} generators`,
        );
        return missing.length === 0;
      },
      {
        timeoutMs: deadlineMs,
        intervalMs: 500,
        maxIntervalMs: 2_000,
        describe: () => "",
      },
    );
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    return {
      state: "deadline",
      detail: `Prometheus had not scraped run ${runId} after ${
        Math.round(deadlineMs / 1_000)
      }s (2 × its ${target.scrapeInterval ?? "15s"} interval + margin)`,
      intervalMs,
    };
  }
  return {
    state: "scraped",
    detail: `scraped by Prometheus after ${((performance.now() - t0) / 1_000).toFixed(1)}s`,
    intervalMs,
  };
}
