/**
 * OCI image archives: a tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`)
 * holding one or more images, each named in `index.json` by its full reference through the
 * annotations `org.opencontainers.image.ref.name` and `io.containerd.image.name`, so
 * `ctr images import` files it under exactly that name.
 *
 * Everything is deterministic: the config has a fixed creation time (the epoch), JSON is written in
 * a fixed key order, and the archive's tar is sorted with fixed times and owners; the same layers
 * and config give the same manifest digest and the same archive bytes.
 */
import { createHash } from "node:crypto";
import { CncfdemoError } from "../errors.ts";
import { lastLines, run } from "../run_program.ts";
import type { LayerBlob } from "./layer_tar.ts";

export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
} as const;

/** The runtime part of an image config (OCI image spec, `config`). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** One image to put in an archive. */
export interface OciImage {
  /** Full reference: registry/repository:tag. */
  readonly ref: string;
  /** Bottom layer first. */
  readonly layers: readonly LayerBlob[];
  readonly config: ImageRuntimeConfig;
  /** One line per layer: what made it (the config's history). */
  readonly history?: readonly string[];
}

/** What was written for one image. */
export interface WrittenImage {
  readonly ref: string;
  /** `sha256:…` of the manifest: the image's digest once imported. */
  readonly manifestDigest: string;
  readonly configDigest: string;
}

const EPOCH = "1970-01-01T00:00:00Z";

/** The OCI architecture name of this machine. */
export function ociArchitecture(): string {
  const arch = Deno.build.arch;
  return arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : arch;
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The JSON documents of an image: config and manifest, and the index entry naming it. */
export function imageDocuments(image: OciImage): {
  config: Uint8Array;
  manifest: Uint8Array;
  descriptor: Record<string, unknown>;
} {
  const enc = new TextEncoder();
  const config = enc.encode(JSON.stringify({
    created: EPOCH,
    architecture: ociArchitecture(),
    os: "linux",
    config: image.config,
    rootfs: { type: "layers", diff_ids: image.layers.map((l) => l.diffId) },
    history: image.layers.map((_, i) => ({
      created: EPOCH,
      created_by: image.history?.[i] ?? "cncfdemo bake",
    })),
  }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: sha256(config), size: config.length },
    layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const descriptor = {
    mediaType: MEDIA_TYPES.manifest,
    digest: sha256(manifest),
    size: manifest.length,
    platform: { architecture: ociArchitecture(), os: "linux" },
    annotations: {
      "io.containerd.image.name": image.ref,
      "org.opencontainers.image.ref.name": image.ref,
    },
  };
  return { config, manifest, descriptor };
}

async function placeBlob(blobs: string, layer: LayerBlob): Promise<void> {
  const target = `${blobs}/${layer.digest.slice("sha256:".length)}`;
  try {
    await Deno.link(layer.path, target);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return;
    await Deno.copyFile(layer.path, target); // another filesystem: copy
  }
}

/**
 * Writes `images` as one OCI archive at `out` (built in a temporary directory beside it, then
 * renamed: a reader never sees half an archive). Returns each image's digests.
 */
export async function writeOciArchive(
  out: string,
  images: readonly OciImage[],
): Promise<WrittenImage[]> {
  if (images.length === 0) throw new CncfdemoError(`No image to write to ${out}`);
  const slash = out.lastIndexOf("/");
  const parent = slash > 0 ? out.slice(0, slash) : ".";
  await Deno.mkdir(parent, { recursive: true });
  const layout = await Deno.makeTempDir({ dir: parent, prefix: ".oci-layout-" });
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const blobs = `${layout}/blobs/sha256`;
    await Deno.mkdir(blobs, { recursive: true });
    const written: WrittenImage[] = [];
    const descriptors: Record<string, unknown>[] = [];
    for (const image of images) {
      const docs = imageDocuments(image);
      for (const layer of image.layers) await placeBlob(blobs, layer);
      const configDigest = sha256(docs.config);
      const manifestDigest = docs.descriptor["digest"] as string;
      await Deno.writeFile(`${blobs}/${configDigest.slice(7)}`, docs.config);
      await Deno.writeFile(`${blobs}/${manifestDigest.slice(7)}`, docs.manifest);
      descriptors.push(docs.descriptor);
      written.push({ ref: image.ref, manifestDigest, configDigest });
    }
    await Deno.writeTextFile(
      `${layout}/oci-layout`,
      JSON.stringify({ imageLayoutVersion: "1.0.0" }),
    );
    await Deno.writeTextFile(
      `${layout}/index.json`,
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: descriptors }),
    );
    for await (const e of Deno.readDir(blobs)) await Deno.chmod(`${blobs}/${e.name}`, 0o644);
    const r = await run("tar", [
      "--create",
      `--file=${tmp}`,
      `--directory=${layout}`,
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--mode=go-w",
      "--format=posix",
      "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
      "oci-layout",
      "index.json",
      "blobs",
    ], { env: { LC_ALL: "C" }, allowFailure: true });
    if (r.code !== 0) {
      throw new CncfdemoError(`Cannot write ${out}: tar failed: ${lastLines(r.stderr)}`);
    }
    await Deno.rename(tmp, out);
    return written;
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  } finally {
    await Deno.remove(layout, { recursive: true }).catch(() => {});
  }
}
