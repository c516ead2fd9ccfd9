/**
 * The first good request to the stack: after the rollout, the demo asks the stack's HTTP front
 * (what the benchmark will load: the bench target or Countly's API; else Prometheus) through the
 * API server's service proxy until a 2xx answer arrives, and records when — the time from the
 * command's start until the deployed stack was first useful.
 */
import { errorMessage } from "../errors.ts";
import { formatDuration } from "../duration.ts";
import type { Kube } from "../kube/client.ts";
import { isEnabled } from "../stack/switches.ts";
import type { Values } from "../stack/values.ts";
import { pollUntil } from "../wait.ts";
import type { FirstGoodRequest } from "./schema.ts";

/** A Service of the stack and the path that answers 2xx when it works. */
export interface ProbeTarget {
  namespace: string;
  service: string;
  /** The Service's port, by name. */
  port: string;
  path: string;
}

/** What the first request asks: the benchmark's target first, else Countly's API, else Prometheus. */
export function probeTarget(values: Values, benchUrl?: string): ProbeTarget | undefined {
  const app = values.namespace;
  const bench: ProbeTarget = { namespace: app, service: "bench-target", port: "http", path: "/" };
  if (benchUrl?.startsWith(`http://bench-target.${app}/`)) return bench;
  if (isEnabled(values, "countly-api")) {
    return { namespace: app, service: "countly-api", port: "http", path: "/o/ping" };
  }
  if (isEnabled(values, "bench-target")) return bench;
  if (isEnabled(values, "prometheus")) {
    return {
      namespace: values.monitoringNamespace,
      service: "prometheus",
      port: "http",
      path: "/-/ready",
    };
  }
  return undefined;
}

export function describeTarget(t: ProbeTarget): string {
  return `service ${t.namespace}/${t.service}:${t.port} GET ${t.path}`;
}

/**
 * Requests the target through the service proxy until it answers 2xx (backing off from 50 ms to
 * 500 ms), within `timeoutMs`; returns the instant of that answer on the command's clock.
 */
export async function firstGoodRequest(
  kube: Kube,
  target: ProbeTarget,
  o: { timeoutMs: number; rolloutEndMs: number },
): Promise<FirstGoodRequest> {
  // Names are DNS labels: the path goes as written (the proxy takes `name:port`).
  const path =
    `/api/v1/namespaces/${target.namespace}/services/${target.service}:${target.port}/proxy${target.path}`;
  let attempts = 0;
  let last = "no answer yet";
  const at = await pollUntil(async () => {
    attempts++;
    try {
      await kube.rest.requestText("GET", path);
      return performance.now();
    } catch (err) {
      last = errorMessage(err);
      return undefined;
    }
  }, {
    timeoutMs: o.timeoutMs,
    intervalMs: 50,
    maxIntervalMs: 500,
    describe: () =>
      `No good answer from ${describeTarget(target)} within ${
        formatDuration(o.timeoutMs)
      } of the rollout's end (${attempts} requests; the last: ${last})`,
  });
  return {
    ms: Math.round(at * 10) / 10,
    after_rollout_ms: Math.round((at - o.rolloutEndMs) * 10) / 10,
    target: describeTarget(target),
    attempts,
  };
}
