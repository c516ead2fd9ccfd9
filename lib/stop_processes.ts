/**
 * Finding and stopping local processes: those whose command line mentions a needle (a cluster's
 * state directory, in Linux /proc), whether one is alive, and SIGTERM-then-SIGKILL with a grace
 * period. The local provider's teardown uses them.
 */
import { delay } from "./wait.ts";

/** Pids of running processes whose command line contains `needle` (empty where /proc is absent). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const pid = Number(entry.name);
      if (pid === Deno.pid) continue;
      try {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
        if (cmdline.includes(needle)) pids.push(pid);
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    return [];
  }
  return pids;
}

/** Whether a process is alive (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    try {
      Deno.kill(pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  }
}

/** Sends SIGTERM, waits up to `graceMs` for the processes to end, then SIGKILLs the rest. */
export async function stopProcesses(pids: readonly number[], graceMs = 5_000): Promise<number[]> {
  const live = pids.filter(isAlive);
  for (const pid of live) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = performance.now() + graceMs;
  while (live.some(isAlive) && performance.now() < deadline) await delay(50);
  const stubborn = live.filter(isAlive);
  for (const pid of stubborn) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return live;
}
