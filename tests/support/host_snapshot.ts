/**
 * Test support: what a local cluster could leave behind on this machine — processes and mounts
 * mentioning its state directory, network interfaces, the nftables ruleset, iptables chains (when
 * iptables is installed), the sysctls the node changes, the runtime paths containerd and the
 * kubelet create, and cgroups — so that a test compares the host before bootstrap and after
 * teardown.
 */
import { hasProgram, run } from "../../lib/run_program.ts";
import { processesMentioning } from "../../lib/stop_processes.ts";
import { readSysctl, RECORDED_SYSCTLS } from "../../lib/providers/local/host.ts";
import { RUNTIME_PATHS } from "../../lib/providers/local/layout.ts";
import { exists } from "../../lib/paths.ts";

export interface HostSnapshot {
  processes: number[];
  mounts: string[];
  links: string[];
  nftables: string;
  iptables: string;
  sysctls: Record<string, string | undefined>;
  runtimePaths: Record<string, boolean>;
  cgroups: string[];
}

async function cgroupsNamed(fragment: string): Promise<string[]> {
  const found: string[] = [];
  for await (const h of Deno.readDir("/sys/fs/cgroup")) {
    if (!h.isDirectory) continue;
    for await (const e of Deno.readDir(`/sys/fs/cgroup/${h.name}`)) {
      if (e.isDirectory && e.name.includes(fragment)) found.push(`${h.name}/${e.name}`);
    }
  }
  return found.sort();
}

/** The host as far as a local cluster whose state lives under `stateDir` could change it. */
export async function hostSnapshot(stateDir: string): Promise<HostSnapshot> {
  const mountinfo = await Deno.readTextFile("/proc/self/mountinfo");
  const links = await run("ip", ["-o", "link", "show"]);
  const nft = await run("nft", ["list", "ruleset"]);
  let iptables = "";
  if (await hasProgram("iptables-save")) {
    iptables = (await run("iptables-save", [], { allowFailure: true })).stdout
      .split("\n").filter((l) => l.startsWith(":") || l.startsWith("-A")).map((l) =>
        l.replace(/\[\d+:\d+\]/, "")
      ).join("\n");
  }
  const sysctls: Record<string, string | undefined> = {};
  for (const k of RECORDED_SYSCTLS) sysctls[k] = await readSysctl(k);
  const runtimePaths: Record<string, boolean> = {};
  for (const p of RUNTIME_PATHS) runtimePaths[p] = await exists(p);
  return {
    processes: await processesMentioning(stateDir),
    mounts: mountinfo.split("\n").filter((l) => l.includes(stateDir)),
    links: links.stdout.split("\n").map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "")
      .filter(Boolean).sort(),
    nftables: nft.stdout,
    iptables,
    sysctls,
    runtimePaths,
    cgroups: await cgroupsNamed("cncfdemo-"),
  };
}
