/**
 * What a benchmark records about the cluster it ran on, and whether that cluster can run
 * containers at all: kwok's simulated nodes (annotation `kwok.x-k8s.io/node: fake`, label
 * `type: kwok`) accept pods but never start a container.
 */
import type { V1Node } from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";
import type { Kube } from "../kube/client.ts";

export interface ClusterFacts {
  context: string;
  server: string;
  kubernetes_version: string | null;
  nodes: number;
  simulated_nodes: number;
  /** Instance type → node count (label node.kubernetes.io/instance-type). */
  instance_types: Record<string, number>;
  /** sim (every node simulated), aws (providerID aws://…) or kubernetes. */
  model: string;
}

/** Whether a node is simulated by kwok (it runs no containers). */
export function isSimulatedNode(node: V1Node): boolean {
  return node.metadata?.annotations?.["kwok.x-k8s.io/node"] === "fake" ||
    node.metadata?.labels?.["type"] === "kwok";
}

/** The benchmark's "model" for a set of nodes. */
export function modelOf(nodes: readonly V1Node[]): string {
  if (nodes.length > 0 && nodes.every(isSimulatedNode)) return "sim";
  if (nodes.some((n) => n.spec?.providerID?.startsWith("aws://"))) return "aws";
  if (nodes.some((n) => n.metadata?.labels?.["cncfdemo.io/provider"] === "local")) return "local";
  return "kubernetes";
}

/** Reads node count, instance types, simulated nodes and the Kubernetes version. */
export async function readClusterFacts(kube: Kube): Promise<ClusterFacts> {
  const nodes = (await kube.core.listNode()).items;
  const types: Record<string, number> = {};
  for (const n of nodes) {
    const t = n.metadata?.labels?.["node.kubernetes.io/instance-type"] ??
      n.metadata?.labels?.["beta.kubernetes.io/instance-type"];
    if (t) types[t] = (types[t] ?? 0) + 1;
  }
  let version: string | null = null;
  try {
    version = (await kube.rest.request<{ gitVersion: string }>("GET", "/version")).gitVersion;
  } catch (err) {
    version = `unknown (${errorMessage(err)})`;
  }
  return {
    context: kube.context,
    server: kube.server,
    kubernetes_version: version,
    nodes: nodes.length,
    simulated_nodes: nodes.filter(isSimulatedNode).length,
    instance_types: types,
    model: modelOf(nodes),
  };
}
