/**
 * Whether a cluster can run the benchmark's containers: at least one node that is not simulated.
 * `deno task demo` asks this before its closing benchmark.
 */
import type { Kube } from "../kube/client.ts";
import { isSimulatedNode } from "./cluster_facts.ts";

export interface ContainerCapability {
  ok: boolean;
  nodes: number;
  simulated: number;
  /** One line: why the cluster can or cannot run containers. */
  reason: string;
}

/** Lists the nodes and says whether any of them runs containers (kwok's simulated ones do not). */
export async function canRunContainers(kube: Kube): Promise<ContainerCapability> {
  const nodes = (await kube.core.listNode()).items;
  const simulated = nodes.filter(isSimulatedNode).length;
  const real = nodes.length - simulated;
  const reason = nodes.length === 0
    ? `context ${kube.context} has no nodes`
    : real === 0
    ? `context ${kube.context} is a simulated cluster: its ${nodes.length} node${
      nodes.length === 1 ? " is" : "s are"
    } simulated by kwok and run no containers`
    : `${real} of ${nodes.length} nodes run containers`;
  return { ok: real > 0, nodes: nodes.length, simulated, reason };
}
