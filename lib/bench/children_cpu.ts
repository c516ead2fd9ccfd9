/**
 * CPU time of this process's child programs of one name (the local wrk generators), from
 * /proc/<pid>/stat — read, never signalled or traced, so the load is not disturbed. For the live
 * view: how many cores the generators use each second (a generator near its threads' count is
 * saturated, and the target's figures say more about wrk than about the target).
 */

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;

/** Seconds of CPU (user + system) used so far by the live children of `parent` named `comm`. */
export async function childrenCpuSeconds(comm: string, parent = Deno.pid): Promise<number> {
  let ticks = 0;
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid … utime(14) stime(15): comm may hold spaces, so split after ")".
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" ");
    if (name !== comm || Number(f[1]) !== parent) continue;
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_S;
}
