/**
 * Where cncfdemo keeps things outside the repository.
 * - cache (rebuildable: binaries): `CNCFDEMO_CACHE_DIR`, else `$XDG_CACHE_HOME/cncfdemo`, else
 *   `~/.cache/cncfdemo`;
 * - state (clusters that exist: the kwok work directory): `CNCFDEMO_STATE_DIR`, else
 *   `$XDG_STATE_HOME/cncfdemo`, else `~/.local/state/cncfdemo`.
 */
import { CncfdemoError } from "./errors.ts";

function home(): string {
  const h = Deno.env.get("HOME");
  if (!h) {
    throw new CncfdemoError(
      "HOME is not set: set HOME, or CNCFDEMO_CACHE_DIR and CNCFDEMO_STATE_DIR",
    );
  }
  return h;
}

/** The cache directory (binaries, keyed by component and version). */
export function cacheDir(): string {
  return Deno.env.get("CNCFDEMO_CACHE_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${home()}/.cache`}/cncfdemo`;
}

/** The state directory (running simulated clusters). */
export function stateDir(): string {
  return Deno.env.get("CNCFDEMO_STATE_DIR") ??
    `${Deno.env.get("XDG_STATE_HOME") ?? `${home()}/.local/state`}/cncfdemo`;
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Writes a file atomically (temporary file in the same directory, then rename). */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(tmp, data, { mode });
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
