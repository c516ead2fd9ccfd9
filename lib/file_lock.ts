/**
 * One process at a time: an exclusive lock (flock) on a file, shared by every process on the
 * machine that opens the same path. Held until the returned file is closed (`using`) or the
 * process ends; `onWait` is told once, only when another process really holds the lock.
 */
import { dirname } from "node:path";

export async function lockFile(path: string, onWait: () => void): Promise<Deno.FsFile> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { create: true, write: true });
  const waiting = setTimeout(onWait, 300);
  try {
    await file.lock(true);
  } catch (err) {
    file.close();
    throw err;
  } finally {
    clearTimeout(waiting);
  }
  return file;
}
