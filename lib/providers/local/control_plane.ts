/**
 * Action "control plane": etcd, kube-apiserver, kube-controller-manager and kube-scheduler as local
 * processes from the pinned binaries, with the cluster's PKI. etcd and the controllers listen on
 * 127.0.0.1; the API server on the node's address (pods reach it through the `kubernetes` Service,
 * whose endpoint must not be a loopback address). Started once, in order, each waited for —
 * restarting the API server under a running controller-manager delays it by tens of seconds.
 */
import { ensureDaemon } from "../../daemon.ts";
import type { LocalContext } from "./context.ts";
import { timeLeft } from "./context.ts";
import { PORTS } from "./layout.ts";
import { probeOk } from "./probe.ts";

/** A PKI file of the cluster. */
export const pki = (ctx: LocalContext, file: string): string => `${ctx.layout.pki}/${file}`;

/** The API server's URL. */
export function apiServerUrl(ctx: LocalContext): string {
  return `https://${ctx.net.nodeIp}:${ctx.net.apiPort}`;
}

export function etcdArgs(ctx: LocalContext): string[] {
  const node = ctx.layout.nodeName;
  const client = `https://127.0.0.1:${PORTS.etcdClient}`;
  const peer = `https://127.0.0.1:${PORTS.etcdPeer}`;
  return [
    `--name=${node}`,
    `--data-dir=${ctx.layout.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${node}=${peer}`,
    `--listen-metrics-urls=http://127.0.0.1:${PORTS.etcdMetrics}`,
    `--cert-file=${pki(ctx, "etcd/server.crt")}`,
    `--key-file=${pki(ctx, "etcd/server.key")}`,
    `--trusted-ca-file=${pki(ctx, "etcd/ca.crt")}`,
    "--client-cert-auth=true",
    `--peer-cert-file=${pki(ctx, "etcd/server.crt")}`,
    `--peer-key-file=${pki(ctx, "etcd/server.key")}`,
    `--peer-trusted-ca-file=${pki(ctx, "etcd/ca.crt")}`,
    "--peer-client-cert-auth=true",
    "--snapshot-count=10000",
  ];
}

export function apiServerArgs(ctx: LocalContext): string[] {
  return [
    `--advertise-address=${ctx.net.nodeIp}`,
    `--bind-address=${ctx.net.nodeIp}`,
    `--secure-port=${ctx.net.apiPort}`,
    `--etcd-servers=https://127.0.0.1:${PORTS.etcdClient}`,
    `--etcd-cafile=${pki(ctx, "etcd/ca.crt")}`,
    `--etcd-certfile=${pki(ctx, "apiserver-etcd-client.crt")}`,
    `--etcd-keyfile=${pki(ctx, "apiserver-etcd-client.key")}`,
    `--client-ca-file=${pki(ctx, "ca.crt")}`,
    `--tls-cert-file=${pki(ctx, "apiserver.crt")}`,
    `--tls-private-key-file=${pki(ctx, "apiserver.key")}`,
    // The API server verifies the kubelet's serving certificate (signed by the cluster CA).
    `--kubelet-certificate-authority=${pki(ctx, "ca.crt")}`,
    `--kubelet-client-certificate=${pki(ctx, "apiserver-kubelet-client.crt")}`,
    `--kubelet-client-key=${pki(ctx, "apiserver-kubelet-client.key")}`,
    // By address: dialling the node by name would ask the host's resolver.
    "--kubelet-preferred-address-types=InternalIP,Hostname",
    `--service-cluster-ip-range=${ctx.net.serviceCidr.text}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki(ctx, "sa.pub")}`,
    `--service-account-signing-key-file=${pki(ctx, "sa.key")}`,
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    "--allow-privileged=true",
    // The aggregation layer (metrics-server's APIService).
    `--requestheader-client-ca-file=${pki(ctx, "front-proxy-ca.crt")}`,
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-username-headers=X-Remote-User",
    `--proxy-client-cert-file=${pki(ctx, "front-proxy-client.crt")}`,
    `--proxy-client-key-file=${pki(ctx, "front-proxy-client.key")}`,
    // Reach aggregated APIs at their endpoints (works before kube-proxy's rules exist).
    "--enable-aggregator-routing=true",
    "--profiling=false",
  ];
}

export function controllerManagerArgs(ctx: LocalContext, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${PORTS.controllerManager}`,
    `--tls-cert-file=${pki(ctx, "controller-manager-serving.crt")}`,
    `--tls-private-key-file=${pki(ctx, "controller-manager-serving.key")}`,
    `--client-ca-file=${pki(ctx, "ca.crt")}`,
    `--requestheader-client-ca-file=${pki(ctx, "front-proxy-ca.crt")}`,
    `--cluster-signing-cert-file=${pki(ctx, "ca.crt")}`,
    `--cluster-signing-key-file=${pki(ctx, "ca.key")}`,
    `--root-ca-file=${pki(ctx, "ca.crt")}`,
    `--service-account-private-key-file=${pki(ctx, "sa.key")}`,
    `--service-cluster-ip-range=${ctx.net.serviceCidr.text}`,
    "--use-service-account-credentials=true",
    "--controllers=*,bootstrapsigner,tokencleaner",
    "--leader-elect=false",
    "--profiling=false",
  ];
}

export function schedulerArgs(ctx: LocalContext, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${PORTS.scheduler}`,
    `--tls-cert-file=${pki(ctx, "scheduler-serving.crt")}`,
    `--tls-private-key-file=${pki(ctx, "scheduler-serving.key")}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
}

const log = (ctx: LocalContext, name: string) => `${ctx.layout.logs}/${name}.log`;

/** Starts (or keeps) etcd and the API server, in that order; returns what each did. */
export async function ensureEtcdAndApiServer(
  ctx: LocalContext,
  progress: (m: string) => void,
): Promise<string[]> {
  const bins = ctx.bins!;
  const owner = ctx.layout.dir;
  const etcd = await ensureDaemon(
    { name: "etcd", program: bins.etcd, args: etcdArgs(ctx), logFile: log(ctx, "etcd") },
    {
      owner,
      ready: () => probeOk(`http://127.0.0.1:${PORTS.etcdMetrics}/health`),
      timeoutMs: timeLeft(ctx),
      progress,
    },
  );
  const admin = { ca: pki(ctx, "ca.crt"), cert: pki(ctx, "admin.crt"), key: pki(ctx, "admin.key") };
  const api = await ensureDaemon(
    {
      name: "kube-apiserver",
      program: bins["kube-apiserver"],
      args: apiServerArgs(ctx),
      logFile: log(ctx, "kube-apiserver"),
    },
    {
      owner,
      ready: () => probeOk(`${apiServerUrl(ctx)}/readyz`, admin),
      timeoutMs: timeLeft(ctx),
      progress,
    },
  );
  return [`etcd ${etcd}`, `kube-apiserver ${api}`];
}

/** Starts (or keeps) the controller-manager and the scheduler. */
export async function ensureControllers(
  ctx: LocalContext,
  kubeconfigs: { controllerManager: string; scheduler: string },
  progress: (m: string) => void,
): Promise<string[]> {
  const bins = ctx.bins!;
  const owner = ctx.layout.dir;
  const ca = { ca: pki(ctx, "ca.crt") };
  const [cm, sched] = await Promise.all([
    ensureDaemon(
      {
        name: "kube-controller-manager",
        program: bins["kube-controller-manager"],
        args: controllerManagerArgs(ctx, kubeconfigs.controllerManager),
        logFile: log(ctx, "kube-controller-manager"),
      },
      {
        owner,
        ready: () => probeOk(`https://127.0.0.1:${PORTS.controllerManager}/healthz`, ca),
        timeoutMs: timeLeft(ctx),
        progress,
      },
    ),
    ensureDaemon(
      {
        name: "kube-scheduler",
        program: bins["kube-scheduler"],
        args: schedulerArgs(ctx, kubeconfigs.scheduler),
        logFile: log(ctx, "kube-scheduler"),
      },
      {
        owner,
        ready: () => probeOk(`https://127.0.0.1:${PORTS.scheduler}/healthz`, ca),
        timeoutMs: timeLeft(ctx),
        progress,
      },
    ),
  ]);
  return [`kube-controller-manager ${cm}`, `kube-scheduler ${sched}`];
}
