/**
 * The host a local node runs on: what it is (cgroup version, whether root holds CAP_SYS_RESOURCE),
 * whether it can take a node (Linux, root, the programs, free ports, CIDRs clear of its routes, no
 * other local cluster), and a record of what bootstrap changes on it (sysctls, runtime paths) so
 * that teardown puts it back.
 */
import { type Cidr, cidrsOverlap, parseCidr } from "../../cidr.ts";
import { CncfdemoError, UsageError } from "../../errors.ts";
import { exists, writeFileAtomic } from "../../paths.ts";
import { hasProgram, run } from "../../run_program.ts";
import { BRIDGE, type LocalLayout, type LocalNetwork, PORTS, RUNTIME_PATHS } from "./layout.ts";

export interface HostFacts {
  cgroupV2: boolean;
  /** Root without CAP_SYS_RESOURCE cannot lower oom_score_adj (some VMs' root, e.g. Firecracker's). */
  capSysResource: boolean;
  /** The cgroup v1 hierarchies (directories under /sys/fs/cgroup), or ["."] for v2. */
  cgroupHierarchies: string[];
}

/** Reads the host's facts (Linux only). */
export async function hostFacts(): Promise<HostFacts> {
  const cgroupV2 = await exists("/sys/fs/cgroup/cgroup.controllers");
  const status = await Deno.readTextFile("/proc/self/status");
  const bnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? "0";
  const capSysResource = (BigInt(`0x${bnd}`) & (1n << 24n)) !== 0n;
  const cgroupHierarchies: string[] = [];
  if (!cgroupV2) {
    const mounts = await Deno.readTextFile("/proc/self/mounts");
    for (const line of mounts.split("\n")) {
      const [, mountPoint, type] = line.split(" ");
      // Every hierarchy, the named systemd one and a hybrid host's cgroup2 ("unified") too: the
      // kubelet wants its root in all of them, and runc makes groups in each.
      if (!/^cgroup2?$/.test(type ?? "") || !mountPoint?.startsWith("/sys/fs/cgroup/")) continue;
      cgroupHierarchies.push(mountPoint);
    }
  } else {
    cgroupHierarchies.push("/sys/fs/cgroup");
  }
  return { cgroupV2, capSysResource, cgroupHierarchies };
}

/** Programs a node needs from the host, and where they come from. */
export const HOST_PROGRAMS: { program: string; from: string }[] = [
  { program: "ip", from: "iproute2" },
  { program: "nft", from: "nftables" },
  { program: "setsid", from: "util-linux" },
  { program: "mount", from: "mount" },
];

/** Linux and root, or one line saying what is needed. */
export function assertLinuxRoot(): void {
  if (Deno.build.os !== "linux") {
    throw new CncfdemoError(
      `bootstrap:local runs a real node on this machine and needs Linux (this is ${Deno.build.os}); use bootstrap:sim, or a Linux VM`,
    );
  }
  if (Deno.uid() !== 0) {
    throw new CncfdemoError(
      "bootstrap:local runs a real node (kubelet, containerd, bridge and nftables rules on this machine) and needs root: run it with sudo (like minikube's none driver)",
    );
  }
}

/** The host programs that are missing, or one line naming them. */
export async function assertHostPrograms(): Promise<void> {
  const missing: string[] = [];
  for (const p of HOST_PROGRAMS) {
    if (!(await hasProgram(p.program))) missing.push(`${p.program} (Debian package ${p.from})`);
  }
  if (missing.length) {
    throw new CncfdemoError(
      `A local node needs ${missing.join(", ")}: install ${
        missing.length === 1 ? "it" : "them"
      } and run again`,
    );
  }
}

interface Route {
  dst: string;
  dev?: string;
}

/** Whether the pod and service CIDRs are clear of each other and of the host's routes. */
export async function assertCidrsFree(net: LocalNetwork): Promise<void> {
  const { podCidr, serviceCidr } = net;
  if (cidrsOverlap(podCidr, serviceCidr)) {
    throw new UsageError(
      `--pod-cidr ${podCidr.text} overlaps --service-cidr ${serviceCidr.text}: choose blocks that do not overlap`,
    );
  }
  if (podCidr.prefix > 24) {
    throw new UsageError(`--pod-cidr ${podCidr.text} is too small: give a /24 or larger block`);
  }
  if (serviceCidr.prefix > 24 || serviceCidr.prefix < 12) {
    throw new UsageError(
      `--service-cidr ${serviceCidr.text}: give a block from /12 to /24 (the API server's limits)`,
    );
  }
  const r = await run("ip", ["-j", "-4", "route", "show", "table", "all"]);
  const routes = JSON.parse(r.stdout || "[]") as Route[];
  for (const route of routes) {
    if (route.dev === BRIDGE || route.dst === "default") continue;
    const dst = parseCidr(route.dst) ?? parseCidr(route.dst.split("/")[0] ?? "");
    if (!dst || dst.address.startsWith("127.") || dst.prefix === 0) continue;
    for (
      const [flagName, block] of [["--pod-cidr", podCidr], ["--service-cidr", serviceCidr]] as [
        string,
        Cidr,
      ][]
    ) {
      if (cidrsOverlap(block, dst)) {
        throw new UsageError(
          `${flagName} ${block.text} overlaps the host's route to ${route.dst}${
            route.dev ? ` (dev ${route.dev})` : ""
          }: choose a block this machine does not use (e.g. ${
            flagName === "--pod-cidr" ? "10.244.0.0/16" : "10.96.0.0/16"
          } or another private range)`,
        );
      }
    }
  }
}

/** A listening TCP socket: local address, port and the process holding it (when known). */
export interface Listener {
  address: string;
  port: number;
  pid?: number;
  program?: string;
}

function hexToIpv4(hex: string): string {
  // /proc/net/tcp writes the address little-endian.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
}

/** TCP listeners on this host (IPv4 and IPv6), with their processes where /proc tells. */
export async function tcpListeners(): Promise<Listener[]> {
  const byInode = new Map<string, Listener>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A") continue; // 0A: LISTEN
      const [addr, port] = f[1]!.split(":");
      const address = file.endsWith("6")
        ? (/^0+$/.test(addr!) ? "::" : addr!.endsWith("0100007F") ? "::ffff:127.0.0.1" : "[ipv6]")
        : hexToIpv4(addr!);
      byInode.set(f[9]!, { address, port: parseInt(port!, 16) });
    }
  }
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      for await (const fd of Deno.readDir(`/proc/${e.name}/fd`)) {
        const target = await Deno.readLink(`/proc/${e.name}/fd/${fd.name}`).catch(() => "");
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        const l = inode ? byInode.get(inode) : undefined;
        if (l && l.pid === undefined) {
          l.pid = Number(e.name);
          l.program = (await Deno.readTextFile(`/proc/${e.name}/comm`).catch(() => "")).trim();
        }
      }
    } catch {
      // a process we may not look into, or one that ended
    }
  }
  return [...byInode.values()];
}

/** The node's ports: each must be free, or held by this cluster's own processes. */
export async function assertPortsFree(
  net: LocalNetwork,
  ownPids: ReadonlySet<number>,
): Promise<void> {
  const wanted = new Map<number, string>([
    [net.apiPort, "kube-apiserver (--api-port)"],
    [PORTS.etcdClient, "etcd"],
    [PORTS.etcdPeer, "etcd (peers)"],
    [PORTS.etcdMetrics, "etcd (metrics)"],
    [PORTS.kubelet, "kubelet"],
    [PORTS.kubeletHealthz, "kubelet (health)"],
    [PORTS.kubeProxyMetrics, "kube-proxy (metrics)"],
    [PORTS.kubeProxyHealthz, "kube-proxy (health)"],
    [PORTS.controllerManager, "kube-controller-manager"],
    [PORTS.scheduler, "kube-scheduler"],
  ]);
  for (const l of await tcpListeners()) {
    const what = wanted.get(l.port);
    if (!what || (l.pid !== undefined && ownPids.has(l.pid))) continue;
    const who = l.pid !== undefined ? ` by ${l.program ?? "a process"} (pid ${l.pid})` : "";
    const fix = l.port === net.apiPort ? "stop it or pass another --api-port" : "stop it";
    throw new UsageError(
      `Port ${l.port}, which ${what} needs, is already in use on ${l.address}${who}: ${fix}`,
    );
  }
}

/** The bridge's alias names the cluster that owns it: `cncfdemo local cluster <name> at <dir>`. */
export function bridgeAlias(layout: LocalLayout): string {
  return `cncfdemo local cluster ${layout.name} at ${layout.dir}`;
}

/** The local cluster that owns the bridge on this machine, if any: its name and state directory. */
export async function bridgeOwner(): Promise<{ name: string; dir: string } | undefined> {
  const r = await run("ip", ["-j", "link", "show", "dev", BRIDGE], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const [link] = JSON.parse(r.stdout || "[]") as { ifalias?: string }[];
  const m = /^cncfdemo local cluster (\S+) at (.+)$/.exec(link?.ifalias ?? "");
  return m ? { name: m[1]!, dir: m[2]! } : { name: "(unknown)", dir: "" };
}

/** One local cluster per machine: kube-proxy's nftables tables and the bridge are shared names. */
export async function assertNoOtherCluster(layout: LocalLayout): Promise<void> {
  const owner = await bridgeOwner();
  if (owner && (owner.name !== layout.name || owner.dir !== layout.dir)) {
    throw new CncfdemoError(
      `Another local cluster, "${owner.name}", runs on this machine (bridge ${BRIDGE}${
        owner.dir ? `, state ${owner.dir}` : ""
      }); one local cluster per machine: remove it first (deno task teardown --provider local --name ${owner.name})`,
    );
  }
}

/**
 * Sysctls the node changes: ours (forwarding for Services, bridged traffic through netfilter) and
 * the kubelet's (it sets these at start unless protectKernelDefaults). Recorded before bootstrap,
 * restored by teardown.
 */
export const RECORDED_SYSCTLS = [
  "net.ipv4.ip_forward",
  "net.bridge.bridge-nf-call-iptables",
  "net.bridge.bridge-nf-call-ip6tables",
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
  "net.netfilter.nf_conntrack_max",
  "net.netfilter.nf_conntrack_tcp_timeout_established",
  "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
  "net.ipv4.conf.all.route_localnet",
] as const;

const sysctlPath = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;

export async function readSysctl(key: string): Promise<string | undefined> {
  return (await Deno.readTextFile(sysctlPath(key)).catch(() => undefined))?.trim();
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  try {
    await Deno.writeTextFile(sysctlPath(key), value);
  } catch (err) {
    throw new CncfdemoError(`Cannot set ${key}=${value}: ${(err as Error).message}`);
  }
}

/** What the host looked like before the first bootstrap. */
export interface HostRecord {
  sysctls: Record<string, string>;
  /** Runtime paths and whether each existed before. */
  runtimePaths: Record<string, boolean>;
}

/**
 * Records the host's state before anything changes — once: a re-run keeps the first record, which
 * still describes the host before this cluster.
 */
export async function recordHost(layout: LocalLayout): Promise<HostRecord> {
  const existing = await readHostRecord(layout);
  if (existing) return existing;
  const sysctls: Record<string, string> = {};
  for (const key of RECORDED_SYSCTLS) {
    const v = await readSysctl(key);
    if (v !== undefined) sysctls[key] = v;
  }
  const runtimePaths: Record<string, boolean> = {};
  for (const p of RUNTIME_PATHS) runtimePaths[p] = await exists(p);
  const record = { sysctls, runtimePaths };
  await writeFileAtomic(layout.hostRecord, JSON.stringify(record, null, 2) + "\n", 0o600);
  return record;
}

export async function readHostRecord(layout: LocalLayout): Promise<HostRecord | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(layout.hostRecord)) as HostRecord;
  } catch {
    return undefined;
  }
}
