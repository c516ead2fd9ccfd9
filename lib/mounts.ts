/**
 * Mounts: those made while building an image (an overlay, bind mounts of the apt caches), undone in
 * reverse order — also when the build fails — and those a local node leaves under its state
 * directory (containers' root filesystems, volumes, network namespaces), undone by teardown. A
 * mount that will not go (busy) is detached lazily, so nothing stays mounted; what still failed is
 * reported in one line.
 */
import { CncfdemoError, errorMessage } from "./errors.ts";
import { run } from "./run_program.ts";

/** Mount points (absolute) at or under `prefix`, deepest first, from /proc/self/mountinfo. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  const clean = prefix.replace(/\/+$/, "");
  const points = text.split("\n").filter(Boolean).map((line) =>
    // field 5 is the mount point, with spaces and the like as octal escapes
    line.split(" ")[4]!.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)))
  );
  return points.filter((p) => p === clean || p.startsWith(`${clean}/`)).sort((a, b) =>
    b.length - a.length
  );
}

/** A stack of mounts, unmounted last-in first-out by {@link MountStack.unmountAll}. */
export class MountStack {
  readonly #points: string[] = [];

  /** `mount <args> <target>`; the target is unmounted by unmountAll. */
  async mount(args: readonly string[], target: string): Promise<void> {
    await run("mount", [...args, target]);
    this.#points.push(target);
  }

  /** A read-write bind mount of `source` on `target`. */
  async bind(source: string, target: string): Promise<void> {
    await this.mount(["--bind", source], target);
  }

  /** Unmounts the most recent mount (it must be `target`). */
  async unmount(target: string): Promise<void> {
    const i = this.#points.lastIndexOf(target);
    if (i < 0) return;
    await unmountOne(target);
    this.#points.splice(i, 1);
  }

  /** Unmounts everything still mounted, newest first; throws once, after trying them all. */
  async unmountAll(): Promise<void> {
    const problems: string[] = [];
    while (this.#points.length) {
      const target = this.#points.pop()!;
      try {
        await unmountOne(target);
      } catch (err) {
        problems.push(errorMessage(err));
      }
    }
    if (problems.length) throw new CncfdemoError(`Cannot unmount: ${problems.join("; ")}`);
  }
}

async function unmountOne(target: string): Promise<void> {
  const r = await run("umount", [target], { allowFailure: true });
  if (r.code === 0) return;
  // still busy (a process the build started is ending): detach now, it goes when released
  const lazy = await run("umount", ["--lazy", target], { allowFailure: true });
  if (lazy.code !== 0 && (await mountsUnder(target)).includes(target)) {
    throw new CncfdemoError(`umount ${target} failed: ${r.stderr.trim() || lazy.stderr.trim()}`);
  }
}

/** Unmounts whatever is mounted at or under `dir` (deepest first): leftovers of a killed build. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) await unmountOne(point);
}
