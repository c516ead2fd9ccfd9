/**
 * `chaos --signal KILL`: SIGKILL to a pod's containers in place — the pod stays, its containers
 * die at once and the kubelet restarts them — through the node's containerd. Kubernetes has no API
 * for this, so it works where the node's containerd is on this machine: a local node
 * (bootstrap:local, node label cncfdemo.io/cluster, socket under its state directory).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { resolveBinaries } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";
import type { Kube } from "../kube/client.ts";
import { exists } from "../paths.ts";
import { run } from "../run_program.ts";
import { localLayout } from "../providers/local/layout.ts";

/** Where to send the signal: the containerd socket of the pod's node, if it is on this machine. */
async function nodeSocket(kube: Kube, node: string): Promise<string> {
  const n = await kube.core.readNode({ name: node });
  const cluster = n.metadata?.labels?.["cncfdemo.io/cluster"];
  const socket = cluster ? localLayout(cluster).containerdSocket : undefined;
  if (!socket || !(await exists(socket))) {
    throw new CncfdemoError(
      `Cannot send KILL to the containers on node ${node}: its containerd is not on this machine (only a local node, bootstrap:local, allows it); drop --signal to delete the pods instead`,
    );
  }
  return socket;
}

/** Sends SIGKILL to every running container of the pods; returns the container ids. */
export async function killContainers(kube: Kube, pods: readonly V1Pod[]): Promise<string[]> {
  const ctr = (await resolveBinaries(["ctr"], { noBuild: true })).paths.ctr;
  const killed: string[] = [];
  for (const p of pods) {
    const socket = await nodeSocket(kube, p.spec?.nodeName ?? "");
    for (const c of p.status?.containerStatuses ?? []) {
      const id = /^containerd:\/\/(.+)$/.exec(c.containerID ?? "")?.[1];
      if (!id || !c.state?.running) continue;
      await run(ctr, [
        "--address",
        socket,
        "-n",
        "k8s.io",
        "task",
        "kill",
        "--signal",
        "SIGKILL",
        id,
      ]);
      killed.push(id);
    }
  }
  if (killed.length === 0) throw new CncfdemoError("No running container to send KILL to");
  return killed;
}
