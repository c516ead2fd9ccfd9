/**
 * Taking a local node down, whatever state a bootstrap left it in (finished, failed or interrupted
 * half-way): everything is found on the host itself — processes by the state directory their
 * command line mentions, pods' processes by the cluster's cgroup, mounts under the state
 * directory, the bridge and nftables tables by name — and the sysctls and runtime paths are put
 * back as the host record says they were.
 */
import { CncfdemoError } from "../../errors.ts";
import { mountsUnder, unmountUnder } from "../../mounts.ts";
import { exists } from "../../paths.ts";
import { isAlive, processesMentioning, stopProcesses } from "../../stop_processes.ts";
import { pollUntil } from "../../wait.ts";
import { type HostFacts, readHostRecord, readSysctl, writeSysctl } from "./host.ts";
import type { LocalLayout } from "./layout.ts";
import { tearDownNetwork } from "./network.ts";

/** The process's program name (argv[0]'s last part). */
async function programOf(pid: number): Promise<string> {
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
  return (cmdline.split("\0")[0] ?? "").split("/").pop() ?? "";
}

/** Pids in the cluster's cgroup tree (pods' processes). */
async function cgroupPids(facts: HostFacts, layout: LocalLayout): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (dir: string) => {
    const procs = await Deno.readTextFile(`${dir}/cgroup.procs`).catch(() => "");
    for (const p of procs.split("\n")) if (p.trim()) pids.add(Number(p));
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) await walk(`${dir}/${e.name}`);
  };
  for (const h of facts.cgroupHierarchies) {
    const root = `${h}${layout.cgroupRoot}`;
    if (await exists(root)) await walk(root).catch(() => {});
  }
  return [...pids];
}

/** Removes the cluster's cgroup tree, deepest first (empty cgroups only). */
async function removeCgroups(facts: HostFacts, layout: LocalLayout): Promise<number> {
  let removed = 0;
  const rm = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) await rm(`${dir}/${e.name}`);
    await Deno.remove(dir);
    removed++;
  };
  for (const h of facts.cgroupHierarchies) {
    const root = `${h}${layout.cgroupRoot}`;
    if (await exists(root)) await rm(root);
  }
  return removed;
}

/**
 * Stops every process of the cluster: the kubelet and kube-proxy first (nothing restarts pods
 * then), the pods' processes and their shims outright (a shim ignores SIGTERM while it has
 * tasks), then containerd and the control plane.
 */
export async function stopClusterProcesses(
  facts: HostFacts,
  layout: LocalLayout,
): Promise<number> {
  const byProgram = async (names: readonly string[]) => {
    const out: number[] = [];
    for (const pid of await processesMentioning(layout.dir)) {
      if (names.includes(await programOf(pid))) out.push(pid);
    }
    return out;
  };
  let stopped = (await stopProcesses(await byProgram(["kubelet", "kube-proxy"]), 5_000)).length;
  stopped += (await stopProcesses(await cgroupPids(facts, layout), 0)).length;
  stopped += (await stopProcesses(await byProgram(["containerd-shim-runc-v2"]), 0)).length;
  // The API server drains for up to a minute on SIGTERM; its data goes with the state anyway.
  stopped += (await stopProcesses(await processesMentioning(layout.dir), 2_000)).length;
  // Anything a shim started while it went down.
  stopped += (await stopProcesses(await cgroupPids(facts, layout), 0)).length;
  await pollUntil(
    async () =>
      (await cgroupPids(facts, layout)).filter(isAlive).length === 0 &&
      (await processesMentioning(layout.dir)).filter(isAlive).length === 0,
    {
      timeoutMs: 15_000,
      describe: () => `Processes of local cluster "${layout.name}" would not stop`,
    },
  );
  return stopped;
}

/** Unmounts everything under the state directory (lazily when busy); returns how many. */
export async function unmountAll(layout: LocalLayout): Promise<number> {
  const n = (await mountsUnder(layout.dir)).length;
  await unmountUnder(layout.dir);
  return n;
}

/** Puts the recorded sysctls back; returns those it changed. */
export async function restoreSysctls(layout: LocalLayout): Promise<string[]> {
  const record = await readHostRecord(layout);
  const restored: string[] = [];
  for (const [key, value] of Object.entries(record?.sysctls ?? {})) {
    if ((await readSysctl(key)) !== value) {
      await writeSysctl(key, value);
      restored.push(`${key}=${value}`);
    }
  }
  return restored;
}

/** Removes the runtime paths bootstrap created (those the record says did not exist). */
export async function removeCreatedRuntimePaths(layout: LocalLayout): Promise<string[]> {
  const record = await readHostRecord(layout);
  const removed: string[] = [];
  for (const [path, existed] of Object.entries(record?.runtimePaths ?? {})) {
    if (existed || !(await exists(path))) continue;
    if ((await mountsUnder(path)).length) {
      throw new CncfdemoError(
        `${path} still holds mounts: ${(await mountsUnder(path)).join(", ")}`,
      );
    }
    await Deno.remove(path, { recursive: true });
    removed.push(path);
  }
  return removed;
}

export { removeCgroups, tearDownNetwork };
