/**
 * Where image builds keep things (`<cache>/images/`), and the lock that lets one process at a time
 * build there (another waits and then finds the work done).
 *
 * Layout: `rootfs/` base root filesystems, `layers/` cached base layers, `apt/` the apt lists and
 * packages shared by builds, `work/` overlay directories of builds in progress, `archives/` the
 * OCI archives.
 */
import { CncfdemoError } from "../errors.ts";
import { cacheDir } from "../paths.ts";
import { lockFile } from "../file_lock.ts";
import { mountsUnder, unmountUnder } from "../mounts.ts";

/** `<cache>/images`. */
export function imagesCacheDir(): string {
  return `${cacheDir()}/images`;
}

let interrupt: AbortController | undefined;

/**
 * Aborted when this process is asked to stop (SIGINT, SIGTERM) while it builds: the programs the
 * build runs (debootstrap, apt-get, tar) are given it, so they end, and the build's mounts and work
 * files are removed on the way out instead of being left behind.
 */
export function buildSignal(): AbortSignal | undefined {
  return interrupt?.signal;
}

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Runs `fn` holding the images build lock (says so when another process holds it), after removing
 * what a killed build left; a SIGINT or SIGTERM meanwhile stops the build cleanly and is reported
 * as one line.
 */
export async function withImagesLock<T>(
  progress: (message: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await lockFile(
    `${imagesCacheDir()}/.lock`,
    () => progress("waiting for another process building images"),
  );
  const controller = new AbortController();
  const onSignal = () => {
    progress("interrupted: stopping the build and removing its mounts");
    controller.abort(
      new CncfdemoError(
        "Interrupted: the image build stopped; its mounts and work files are removed",
      ),
    );
  };
  try {
    interrupt = controller;
    for (const s of SIGNALS) Deno.addSignalListener(s, onSignal);
    await removeLeftovers();
    try {
      return await fn();
    } catch (err) {
      throw controller.signal.aborted ? controller.signal.reason : err;
    }
  } finally {
    for (const s of SIGNALS) Deno.removeSignalListener(s, onSignal);
    interrupt = undefined;
    await lock.unlock().catch(() => {});
    lock.close();
  }
}

/**
 * Work directories a killed build left (its overlay and bind mounts may still be there): unmounted
 * and removed. Only called holding the lock, when no build of ours is running.
 */
async function removeLeftovers(): Promise<void> {
  const root = imagesCacheDir();
  const dirs: string[] = [];
  const places = [["work", ""], ["rootfs", ".tmp-"], ["layers", "."], ["archives", ".oci-layout-"]];
  for (const [parent, prefix] of places as [string, string][]) {
    try {
      for await (const e of Deno.readDir(`${root}/${parent}`)) {
        if (e.isDirectory && e.name.startsWith(prefix)) dirs.push(`${root}/${parent}/${e.name}`);
      }
    } catch {
      // not there yet
    }
  }
  for (const dir of dirs) {
    await unmountUnder(dir);
    if ((await mountsUnder(dir)).length === 0) await Deno.remove(dir, { recursive: true });
  }
  // half-written files: layers and archives are written beside their final name, then renamed
  for (const parent of ["layers", "archives"]) {
    try {
      for await (const e of Deno.readDir(`${root}/${parent}`)) {
        if (e.isFile && e.name.includes(".tmp")) {
          await Deno.remove(`${root}/${parent}/${e.name}`).catch(() => {});
        }
      }
    } catch {
      // not there yet
    }
  }
}
