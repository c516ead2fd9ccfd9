/**
 * One image layer from a directory: a tar made by GNU tar, deterministic (the same tree gives the
 * same bytes, hence the same digest), optionally compressed, with its two digests — `diffId` (the
 * uncompressed tar, what the image config lists) and `digest` (the blob, what the manifest lists).
 *
 * The tar: entries sorted by name in the C locale, every mtime 0, numeric owners (kept as they are
 * on disk: a Debian root filesystem has files owned by service users), POSIX format with
 * deterministic extended headers (no atime/ctime, fixed header names), and only the
 * `security.capability` extended attribute (file capabilities, e.g. CoreDNS binding port 53 as
 * non-root). The tar and the compressor are streamed: nothing is held in memory.
 */
import { createHash, type Hash } from "node:crypto";
import { CncfdemoError } from "../errors.ts";
import { lastLines } from "../run_program.ts";

/** How a layer blob is compressed. */
export type Compression = "none" | "gzip" | "zstd";

/** A layer blob on disk. */
export interface LayerBlob {
  /** The blob file. */
  readonly path: string;
  readonly mediaType: string;
  /** `sha256:<hex>` of the blob (as stored). */
  readonly digest: string;
  /** `sha256:<hex>` of the uncompressed tar. */
  readonly diffId: string;
  /** Bytes of the blob. */
  readonly size: number;
}

export const LAYER_MEDIA_TYPES: Record<Compression, string> = {
  none: "application/vnd.oci.image.layer.v1.tar",
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};

/** File name endings of layer blobs. */
export const LAYER_EXTENSIONS: Record<Compression, string> = {
  none: ".tar",
  gzip: ".tar.gz",
  zstd: ".tar.zst",
};

/** The compressor of each compression (deterministic: no name or time in the output). */
const COMPRESSORS: Record<Exclude<Compression, "none">, { cmd: string; args: string[] }> = {
  gzip: { cmd: "gzip", args: ["-n", "-6", "-c"] },
  // zstd's output does not depend on the thread count (checked: -T1, -T2 and -T0 are identical).
  zstd: { cmd: "zstd", args: ["-q", "-3", "-T0", "-c"] },
};

/** GNU tar's arguments for a deterministic layer of `dir`. */
export function layerTarArgs(dir: string): string[] {
  return [
    "--create",
    "--file=-",
    `--directory=${dir}`,
    "--sort=name",
    "--mtime=@0",
    "--numeric-owner",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "--xattrs",
    "--xattrs-include=security.capability",
    "--no-acls",
    "--no-selinux",
    ".",
  ];
}

function hashing(hash: Hash): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/**
 * Writes the layer of `dir` to `out` (written to a temporary file beside it, then renamed) and
 * returns its digests. Fails in one line naming tar or the compressor and its complaint.
 */
export async function tarLayer(
  dir: string,
  out: string,
  options: { compression: Compression; signal?: AbortSignal | undefined },
): Promise<LayerBlob> {
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const env = { LC_ALL: "C", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  const diff = createHash("sha256");
  const blob = createHash("sha256");
  let tar: Deno.ChildProcess | undefined;
  let comp: Deno.ChildProcess | undefined;
  const stop = () => {
    for (const p of [tar, comp]) {
      try {
        p?.kill("SIGKILL");
      } catch {
        // already ended
      }
    }
  };
  const signal = options.signal;
  signal?.addEventListener("abort", stop, { once: true });
  try {
    try {
      tar = new Deno.Command("tar", {
        args: layerTarArgs(dir),
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new CncfdemoError("Cannot run tar: it is not installed; apt-get install tar");
      }
      throw err;
    }
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o644 });
    const tarErr = collect(tar.stderr);
    const fromTar = tar.stdout.pipeThrough(hashing(diff));
    let compErr: Promise<string> = Promise.resolve("");
    if (options.compression === "none") {
      await fromTar.pipeThrough(hashing(blob)).pipeTo(file.writable);
    } else {
      const c = COMPRESSORS[options.compression];
      try {
        comp = new Deno.Command(c.cmd, {
          args: c.args,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      } catch (err) {
        await tar.stdout.cancel().catch(() => {});
        file.close();
        if (err instanceof Deno.errors.NotFound) {
          throw new CncfdemoError(
            `Cannot run ${c.cmd}: it is not installed; apt-get install ${c.cmd}`,
          );
        }
        throw err;
      }
      compErr = collect(comp.stderr);
      await Promise.all([
        fromTar.pipeTo(comp.stdin),
        comp.stdout.pipeThrough(hashing(blob)).pipeTo(file.writable),
      ]);
    }
    const [tarStatus, tarText] = await Promise.all([tar.status, tarErr]);
    if (!tarStatus.success) {
      throw new CncfdemoError(
        `tar of ${dir} failed: ${lastLines(tarText) || `exit code ${tarStatus.code}`}`,
      );
    }
    if (comp) {
      const [compStatus, compText] = await Promise.all([comp.status, compErr]);
      if (!compStatus.success) {
        throw new CncfdemoError(
          `${options.compression} of the layer of ${dir} failed: ${
            lastLines(compText) || `exit code ${compStatus.code}`
          }`,
        );
      }
    }
    const size = (await Deno.stat(tmp)).size;
    await Deno.rename(tmp, out);
    return {
      path: out,
      mediaType: LAYER_MEDIA_TYPES[options.compression],
      digest: `sha256:${blob.digest("hex")}`,
      diffId: `sha256:${diff.digest("hex")}`,
      size,
    };
  } catch (err) {
    stop();
    await tar?.status.catch(() => {});
    await comp?.status.catch(() => {});
    await Deno.remove(tmp).catch(() => {});
    throw err;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
