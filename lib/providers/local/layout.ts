/**
 * Where a local cluster keeps its files, and the addresses it uses. Everything the node makes lives
 * under `<state>/local/<name>/`; the few paths the runtime uses whatever it is configured with are
 * listed in {@link RUNTIME_PATHS} (teardown removes the ones bootstrap created).
 */
import { type Cidr, nthAddress, parseCidr } from "../../cidr.ts";
import { stateDir } from "../../paths.ts";

/** The node's bridge: pods' veths attach to it, and it carries the node's address. */
export const BRIDGE = "cncfdemo0";

/** The nftables table that keeps pods' traffic on this machine. */
export const GUARD_TABLE = "cncfdemo-guard";

/** The tables kube-proxy makes in nftables mode. */
export const KUBE_PROXY_TABLES = [["ip", "kube-proxy"], ["ip6", "kube-proxy"]] as const;

/** Paths containerd and the kubelet create whatever their configuration says. */
export const RUNTIME_PATHS = [
  "/run/containerd",
  "/var/lib/cni",
  "/var/lib/kubelet",
  "/var/log/containers",
  "/var/log/pods",
] as const;

/** Ports the node's components listen on (on 127.0.0.1 or the node's address). */
export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  kubelet: 10250,
  kubeletHealthz: 10248,
  kubeProxyMetrics: 10249,
  kubeProxyHealthz: 10256,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

export interface LocalLayout {
  name: string;
  /** `<state>/local/<name>` */
  dir: string;
  pki: string;
  logs: string;
  /** Component configuration files and kubeconfigs. */
  config: string;
  etcdData: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  podLogs: string;
  /** What bootstrap found on the host before it changed anything (sysctls, runtime paths). */
  hostRecord: string;
  /** The cgroup under which the kubelet puts every pod. */
  cgroupRoot: string;
  nodeName: string;
}

/** The state directory of every local cluster. */
export function localRoot(): string {
  return `${stateDir()}/local`;
}

export function localLayout(name: string): LocalLayout {
  const dir = `${localRoot()}/${name}`;
  return {
    name,
    dir,
    pki: `${dir}/pki`,
    logs: `${dir}/logs`,
    config: `${dir}/config`,
    etcdData: `${dir}/etcd`,
    containerdRoot: `${dir}/containerd/root`,
    containerdState: `${dir}/containerd/state`,
    containerdSocket: `${dir}/run/containerd.sock`,
    runcRoot: `${dir}/run/runc`,
    cniConfDir: `${dir}/cni/net.d`,
    cniIpamDir: `${dir}/cni/ipam`,
    kubeletRoot: `${dir}/kubelet`,
    podLogs: `${dir}/pod-logs`,
    hostRecord: `${dir}/host-before.json`,
    cgroupRoot: `/cncfdemo-${name}`,
    nodeName: `${name}-node`,
  };
}

/** The cluster's addresses, worked out from the CIDRs. */
export interface LocalNetwork {
  podCidr: Cidr;
  serviceCidr: Cidr;
  /** The node's address: the bridge's, the first of the pod CIDR. */
  nodeIp: string;
  /** The `kubernetes` Service's address: the first of the service CIDR. */
  apiServiceIp: string;
  /** The cluster DNS Service's address: the tenth of the service CIDR. */
  dnsIp: string;
  apiPort: number;
}

export function localNetwork(podCidr: string, serviceCidr: string, apiPort: number): LocalNetwork {
  const pods = parseCidr(podCidr)!;
  const services = parseCidr(serviceCidr)!;
  return {
    podCidr: pods,
    serviceCidr: services,
    nodeIp: nthAddress(pods, 1),
    apiServiceIp: nthAddress(services, 1),
    dnsIp: nthAddress(services, 10),
    apiPort,
  };
}
