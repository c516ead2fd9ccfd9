/**
 * The Pushgateway as the benchmark uses it: generators push their result to the group
 * `job=cncfdemo-bench, run_id=<id>, generator=<name>` for Prometheus; the bench reads the groups
 * of its run back (checked against the generators' own results) and deletes them once Prometheus
 * has scraped them (lib/bench/prometheus_api.ts), since the Pushgateway keeps metrics forever
 * otherwise.
 *
 * Two ways to reach it: a URL (`--pushgateway`, local mode, tests), or the Kubernetes API server's
 * service proxy (the in-cluster Service `pushgateway` in namespace `monitoring`).
 */
import { CncfdemoError, errorMessage } from "../errors.ts";
import type { Kube } from "../kube/client.ts";
import { connectionProblem } from "../kube/errors.ts";
import { log } from "../log.ts";
import { generatorsFromMetrics, type PushedResult } from "./prometheus_text.ts";

export const PUSH_JOB = "cncfdemo-bench";

/** The group path of one generator of one run. */
export function groupPath(runId: string, generator: string): string {
  const seg = encodeURIComponent;
  return `metrics/job/${PUSH_JOB}/run_id/${seg(runId)}/generator/${seg(generator)}`;
}

interface Transport {
  /** For messages: `http://127.0.0.1:9091` or `service monitoring/pushgateway:9091`. */
  readonly where: string;
  request(method: "GET" | "PUT" | "DELETE", path: string, body?: string): Promise<string>;
}

export class Pushgateway {
  private constructor(private readonly t: Transport) {}

  /** A Pushgateway at a URL. */
  static at(url: string, timeoutMs = 10_000): Pushgateway {
    const base = url.replace(/\/+$/, "");
    return new Pushgateway({
      where: base,
      async request(method, path, body) {
        let res: Response;
        try {
          res = await fetch(`${base}/${path}`, {
            method,
            ...(body !== undefined
              ? { body, headers: { "content-type": "text/plain; version=0.0.4" } }
              : {}),
            signal: AbortSignal.timeout(timeoutMs),
          });
        } catch (err) {
          throw new CncfdemoError(
            `Cannot reach the Pushgateway at ${base}: ${connectionProblem(err)}`,
            { cause: err },
          );
        }
        const text = await res.text();
        if (!res.ok) {
          throw new CncfdemoError(
            `The Pushgateway at ${base} answered ${method} /${
              path.split("/")[0]
            } with ${res.status}: ${text.trim().split("\n")[0]?.slice(0, 200)}`,
          );
        }
        return text;
      },
    });
  }

  /** The in-cluster Service, reached through the API server's service proxy. */
  static viaKube(
    kube: Kube,
    namespace = "monitoring",
    service = "pushgateway",
    port = 9091,
  ): Pushgateway {
    const name = `${service}:${port}`;
    return new Pushgateway({
      where: `service ${namespace}/${name} (through the API server)`,
      async request(method, path) {
        try {
          if (method !== "GET" && method !== "DELETE") {
            // Generators push from inside the cluster; this side only reads and deletes.
            throw new Error(`${method} with a body is not sent through the API server`);
          }
          // The path goes to the API server as written (slashes and all): the service proxy
          // passes it on to the Pushgateway.
          return await kube.rest.requestText(
            method,
            `/api/v1/namespaces/${namespace}/services/${name}/proxy/${path}`,
          );
        } catch (err) {
          throw new CncfdemoError(
            `Cannot reach the Pushgateway (service ${namespace}/${service}:${port}) through the API server: ${
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

  /** Fails with one line unless the Pushgateway answers its readiness endpoint. */
  async checkReady(): Promise<void> {
    await this.t.request("GET", "-/ready");
  }

  /** Replaces a generator's group with `text` (Prometheus text format). */
  async push(runId: string, generator: string, text: string): Promise<void> {
    await this.t.request("PUT", groupPath(runId, generator), text);
  }

  /** The results of the run's generators found on the Pushgateway, by generator name. */
  async collect(runId: string): Promise<Map<string, PushedResult>> {
    return generatorsFromMetrics(await this.t.request("GET", "metrics"), runId);
  }

  /** Deletes the groups of a run's generators; failures are reported, not thrown. */
  async deleteRun(runId: string, generators: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const g of generators) {
      try {
        await this.t.request("DELETE", groupPath(runId, g));
        deleted++;
      } catch (err) {
        log.warn(`Could not delete Pushgateway group ${groupPath(runId, g)}: ${errorMessage(err)}`);
      }
    }
    return deleted;
  }
}
