/**
 * Running apt-get (and other programs) inside a root filesystem being built, with `chroot`.
 *
 * What the chroot needs, found by building the images: a resolv.conf to reach the mirror (the
 * host's, copied in and removed again, so no layer keeps it), the apt lists and .deb caches shared
 * between builds (bind-mounted from `<cache>/images/apt/`, so they never land in a layer), and a
 * clean environment. /proc is not needed: no maintainer script of our packages reads it. Services
 * are kept from starting by the base's `/usr/sbin/policy-rc.d` (exit 101; see debian_base.ts).
 */
import { CncfdemoError } from "../errors.ts";
import { lastLines, run, type RunResult } from "../run_program.ts";
import { buildSignal } from "./cache.ts";
import { MountStack } from "../mounts.ts";

const ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "DEBIAN_FRONTEND=noninteractive",
  "DEBCONF_NONINTERACTIVE_SEEN=true",
  "LC_ALL=C",
  "LANG=C",
  "HOME=/root",
];

/**
 * Runs `args` inside `root` with a clean environment; output lines go to `onLine`. A failure is one
 * line naming the command: `apt-get install failed: E: Unable to locate package nginx-lite`.
 */
export async function chrootRun(
  root: string,
  args: readonly string[],
  onLine?: (line: string) => void,
): Promise<RunResult> {
  const r = await run("chroot", [root, "/usr/bin/env", "-i", ...ENV, ...args], {
    ...(onLine ? { onLine: (l: string) => onLine(l) } : {}),
    ...(buildSignal() ? { signal: buildSignal()! } : {}),
    allowFailure: true,
  });
  if (r.code !== 0) {
    const cmd = args.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ");
    const why = lastLines(r.stderr, 2) || lastLines(r.stdout, 2) || `exit code ${r.code}`;
    throw new CncfdemoError(`${cmd} failed (in the chroot ${root}): ${why}`);
  }
  return r;
}

/** The shared apt caches (lists and downloaded packages). */
export interface AptCaches {
  lists: string;
  archives: string;
}

/**
 * Makes `root` ready for apt-get (caches bind-mounted, resolv.conf copied in), runs `fn`, and
 * undoes it all — also when `fn` fails.
 */
export async function withApt<T>(
  root: string,
  caches: AptCaches,
  fn: () => Promise<T>,
): Promise<T> {
  const mounts = new MountStack();
  const resolv = `${root}/etc/resolv.conf`;
  try {
    await Deno.mkdir(`${caches.lists}/partial`, { recursive: true });
    await Deno.mkdir(`${caches.archives}/partial`, { recursive: true });
    await mounts.bind(caches.lists, `${root}/var/lib/apt/lists`);
    await mounts.bind(caches.archives, `${root}/var/cache/apt/archives`);
    await Deno.remove(resolv).catch(() => {});
    await Deno.copyFile("/etc/resolv.conf", resolv);
    return await fn();
  } finally {
    try {
      await mounts.unmountAll();
    } finally {
      await Deno.remove(resolv).catch(() => {});
    }
  }
}

/** What apt-get prints that is worth showing as progress. */
export function aptProgress(line: string): string | undefined {
  const m = /^(Get:\d+ \S+ \S+ \S+ (\S+)|Unpacking (\S+)|Setting up (\S+))/.exec(line);
  if (!m) return undefined;
  if (m[2]) return `downloading ${m[2]}`;
  if (m[3]) return `unpacking ${m[3]}`;
  return `setting up ${m[4]}`;
}
