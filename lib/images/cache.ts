/**
 * Where image builds keep things (`<cache>/images/`), and the lock that lets one process at a time
 * build there (another waits and then finds the work done).
 *
 * Layout: `rootfs/` base root filesystems, `layers/` cached base layers, `apt/` the apt lists and
 * packages shared by builds, `work/` overlay directories of builds in progress, `archives/` the
 * OCI archives.
 */
import { cacheDir } from "../paths.ts";

/** `<cache>/images`. */
export function imagesCacheDir(): string {
  return `${cacheDir()}/images`;
}

/** Runs `fn` holding the images build lock; says so when another process holds it. */
export async function withImagesLock<T>(
  progress: (message: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = imagesCacheDir();
  await Deno.mkdir(dir, { recursive: true });
  const lock = await Deno.open(`${dir}/.lock`, { create: true, write: true });
  try {
    const waiting = setTimeout(() => progress("waiting for another process building images"), 300);
    await lock.lock(true).finally(() => clearTimeout(waiting));
    return await fn();
  } finally {
    await lock.unlock().catch(() => {});
    lock.close();
  }
}
