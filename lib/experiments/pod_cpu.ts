/**
 * The CPU-seconds some pods have used so far, from each node's kubelet (its summary API through
 * the API server's node proxy): the sum of their containers' cumulative usageCoreNanoSeconds,
 * which the container runtime reads from the containers' cgroups. Pods that are gone or not yet
 * measured count 0.
 */
import type { Kube } from "../kube/client.ts";

interface Summary {
  pods?: {
    podRef: { name: string; namespace: string };
    containers?: { cpu?: { usageCoreNanoSeconds?: number } }[];
  }[];
}

export interface CpuReading {
  seconds: number;
  /** Pods found in the kubelets' summaries. */
  measured: number;
  source: string;
}

/** Reads the CPU-seconds used so far by the named pods of a namespace. */
export async function podCpuSeconds(
  kube: Kube,
  namespace: string,
  pods: readonly string[],
): Promise<CpuReading> {
  const want = new Set(pods);
  let ns = 0;
  let measured = 0;
  for (const node of (await kube.core.listNode()).items) {
    const name = node.metadata!.name!;
    const s = await kube.rest.request<Summary>(
      "GET",
      `/api/v1/nodes/${encodeURIComponent(name)}/proxy/stats/summary`,
    );
    for (const p of s?.pods ?? []) {
      if (p.podRef.namespace !== namespace || !want.has(p.podRef.name)) continue;
      measured++;
      for (const c of p.containers ?? []) ns += c.cpu?.usageCoreNanoSeconds ?? 0;
    }
  }
  return { seconds: ns / 1e9, measured, source: "kubelet summary API" };
}
