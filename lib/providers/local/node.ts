/**
 * Action "node": the kubelet and kube-proxy of the one real node. The kubelet serves with a
 * certificate signed by the cluster CA (the API server, Prometheus and metrics-server verify it),
 * authenticates and authorises callers through the API server, listens on the node's address
 * (health on 127.0.0.1), keeps its state under the cluster's directory, and puts every pod under a
 * cgroup of this cluster's own. kube-proxy runs in nftables mode and leaves the host's conntrack
 * sysctls alone.
 */
import type { V1Node } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { ensureDaemon } from "../../daemon.ts";
import { watchUntil } from "../../kube/watch.ts";
import { log } from "../../log.ts";
import { pki } from "./control_plane.ts";
import { writeIfChanged } from "./container_runtime.ts";
import type { LocalContext } from "./context.ts";
import { timeLeft } from "./context.ts";
import { PORTS } from "./layout.ts";
import { probeOk } from "./probe.ts";

/** The kubelet's configuration file. */
export function kubeletConfig(ctx: LocalContext): string {
  const l = ctx.layout;
  const facts = ctx.facts!;
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: ctx.net.nodeIp,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: PORTS.kubeletHealthz,
    tlsCertFile: pki(ctx, "kubelet-serving.crt"),
    tlsPrivateKeyFile: pki(ctx, "kubelet-serving.key"),
    rotateCertificates: false,
    serverTLSBootstrap: false,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki(ctx, "ca.crt") },
    },
    authorization: { mode: "Webhook" },
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    cgroupDriver: "cgroupfs",
    cgroupRoot: l.cgroupRoot,
    cgroupsPerQOS: true,
    // Kubernetes 1.35+ refuses cgroup v1 unless told otherwise (KEP-5573).
    ...(facts.cgroupV2 ? {} : { failCgroupV1: false }),
    // Without CAP_SYS_RESOURCE, the kubelet cannot lower its own oom_score_adj.
    ...(facts.capSysResource ? {} : { oomScoreAdj: 0 }),
    clusterDNS: [ctx.net.dnsIp],
    clusterDomain: "cluster.local",
    // No host resolver for pods: names outside the cluster are not looked up (nothing leaves).
    resolvConf: "",
    podLogsDir: l.podLogs,
    staticPodPath: "",
    failSwapOn: false,
    // A development node, as kind's: never evict for disk, never collect images (there is no
    // registry to pull them back from).
    evictionHard: {
      "nodefs.available": "0%",
      "nodefs.inodesFree": "0%",
      "imagefs.available": "0%",
    },
    imageGCHighThresholdPercent: 100,
    maxPods: 110,
    // Report every image on the node (default 50): the offline check reads them from the status.
    nodeStatusMaxImages: -1,
    serializeImagePulls: false,
    shutdownGracePeriod: "0s",
  });
}

export function kubeletArgs(ctx: LocalContext, configPath: string, kubeconfig: string): string[] {
  return [
    `--config=${configPath}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${ctx.layout.kubeletRoot}`,
    `--cert-dir=${ctx.layout.kubeletRoot}/pki`,
    `--hostname-override=${ctx.layout.nodeName}`,
    `--node-ip=${ctx.net.nodeIp}`,
    // cAdvisor (inside the kubelet) asks containerd for each container's pod and name; without
    // this it looks for the default socket and container metrics lose their labels.
    `--containerd=${ctx.layout.containerdSocket}`,
    `--node-labels=cncfdemo.io/provider=local,cncfdemo.io/cluster=${ctx.layout.name}`,
  ];
}

/** kube-proxy's configuration file. */
export function kubeProxyConfig(ctx: LocalContext, kubeconfig: string): string {
  const facts = ctx.facts!;
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "nftables",
    clientConnection: { kubeconfig },
    hostnameOverride: ctx.layout.nodeName,
    clusterCIDR: ctx.net.podCidr.text,
    bindAddress: ctx.net.nodeIp,
    healthzBindAddress: `127.0.0.1:${PORTS.kubeProxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${PORTS.kubeProxyMetrics}`,
    // NodePorts answer on the node's address only.
    nodePortAddresses: [`${ctx.net.nodeIp}/32`],
    // Leave the host's conntrack sysctls as they are.
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: "0s",
      tcpCloseWaitTimeout: "0s",
    },
    ...(facts.capSysResource ? {} : { oomScoreAdj: 0 }),
  });
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Makes the cgroup under which the kubelet puts every pod (it must exist before the kubelet). */
export async function ensureCgroupRoot(ctx: LocalContext): Promise<void> {
  for (const h of ctx.facts!.cgroupHierarchies) {
    const dir = `${h}${ctx.layout.cgroupRoot}`;
    await Deno.mkdir(dir, { recursive: true });
    // cgroup v1 cpuset: a new group has no CPUs or memory nodes until given its parent's.
    if (h.endsWith("/cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        const mine = (await Deno.readTextFile(`${dir}/${f}`)).trim();
        if (!mine) await Deno.writeTextFile(`${dir}/${f}`, await Deno.readTextFile(`${h}/${f}`));
      }
    }
  }
}

/** Starts (or keeps) the kubelet and kube-proxy and waits for the node to be Ready. */
export async function ensureNode(
  ctx: LocalContext,
  kubeconfigs: { kubelet: string; kubeProxy: string },
  progress: (m: string) => void,
): Promise<string> {
  const l = ctx.layout;
  const bins = ctx.bins!;
  await ensureCgroupRoot(ctx);
  for (const dir of [l.kubeletRoot, l.podLogs]) await Deno.mkdir(dir, { recursive: true });
  const kubeletPath = `${l.config}/kubelet.yaml`;
  const proxyPath = `${l.config}/kube-proxy.yaml`;
  const kubeletChanged = await writeIfChanged(kubeletPath, kubeletConfig(ctx), 0o600);
  const proxyChanged = await writeIfChanged(
    proxyPath,
    kubeProxyConfig(ctx, kubeconfigs.kubeProxy),
    0o600,
  );
  const path = `${
    bins.kubelet.slice(0, bins.kubelet.lastIndexOf("/"))
  }:/usr/sbin:/usr/bin:/sbin:/bin`;
  const kubelet = await ensureDaemon(
    {
      name: "kubelet",
      program: bins.kubelet,
      args: kubeletArgs(ctx, kubeletPath, kubeconfigs.kubelet),
      logFile: `${l.logs}/kubelet.log`,
      env: { PATH: path },
    },
    {
      owner: l.dir,
      restart: kubeletChanged,
      ready: () => probeOk(`http://127.0.0.1:${PORTS.kubeletHealthz}/healthz`),
      timeoutMs: timeLeft(ctx),
      progress,
    },
  );
  const proxy = await ensureDaemon(
    {
      name: "kube-proxy",
      program: bins["kube-proxy"],
      args: [`--config=${proxyPath}`],
      logFile: `${l.logs}/kube-proxy.log`,
      env: { PATH: path },
    },
    {
      owner: l.dir,
      restart: proxyChanged,
      ready: () => probeOk(`http://127.0.0.1:${PORTS.kubeProxyHealthz}/healthz`),
      timeoutMs: timeLeft(ctx),
      progress,
    },
  );
  progress("waiting for the node to be Ready");
  const [node] = await watchUntil<V1Node>(
    ctx.kube!,
    { apiVersion: "v1", kind: "Node", fieldSelector: `metadata.name=${l.nodeName}` },
    // Ready, and its status lists the imported images: what the node can run is read from there.
    (ns) =>
      ns.length === 1 && isReady(ns[0]!) &&
      (ctx.imported ?? []).every((ref) =>
        ns[0]!.status?.images?.some((i) => i.names?.includes(ref))
      ),
    {
      timeoutMs: timeLeft(ctx),
      describe: (ns) =>
        ns.length
          ? `Node ${l.nodeName} is not Ready: ${
            ns[0]!.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "no status"
          } (log: ${l.logs}/kubelet.log)`
          : `Node ${l.nodeName} did not register (log: ${l.logs}/kubelet.log)`,
    },
  );
  const cap = node!.status?.capacity ?? {};
  log.debug(`node ${l.nodeName}: ${JSON.stringify(cap)}`);
  return `kubelet ${kubelet}, kube-proxy ${proxy}; node ${l.nodeName} Ready (${cap.cpu} CPU, ${cap.memory}, ${cap.pods} pods)`;
}
