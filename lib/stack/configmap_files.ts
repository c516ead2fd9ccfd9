/**
 * `--from-file` sources as kubectl reads them: `PATH` (key = base name), `KEY=PATH`, or a directory
 * (each regular file in it; subdirectories only with `recursive`, keys still the base names).
 */
import { UsageError } from "../errors.ts";
import { configMapFromFiles, type ConfigMapObject } from "./configmap.ts";

async function filesIn(dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    const st = await Deno.stat(path).catch(() => undefined);
    if (st?.isFile) out.push(path);
    else if (st?.isDirectory && recursive) out.push(...await filesIn(path, true));
  }
  return out;
}

/** Builds the ConfigMap from `--from-file` values. */
export async function configMapFromPaths(
  name: string,
  sources: readonly string[],
  recursive: boolean,
): Promise<ConfigMapObject> {
  const files: { key: string; data: Uint8Array; source: string }[] = [];
  for (const source of sources) {
    const eq = source.indexOf("=");
    const key = eq > 0 ? source.slice(0, eq) : undefined;
    const path = eq > 0 ? source.slice(eq + 1) : source;
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(path);
    } catch (err) {
      throw new UsageError(
        `Cannot read --from-file ${path}: ${
          err instanceof Deno.errors.NotFound ? "no such file or directory" : (err as Error).message
        }`,
      );
    }
    if (st.isDirectory) {
      if (key) {
        throw new UsageError(
          `Cannot use --from-file ${source}: a key can only name a file, not a directory`,
        );
      }
      const inDir = await filesIn(path, recursive);
      if (!inDir.length) throw new UsageError(`--from-file ${path} has no regular files`);
      for (const f of inDir) {
        files.push({ key: f.split("/").pop()!, data: await Deno.readFile(f), source: f });
      }
    } else {
      files.push({
        key: key ?? path.split("/").pop()!,
        data: await Deno.readFile(path),
        source: path,
      });
    }
  }
  return configMapFromFiles(name, undefined, files);
}
