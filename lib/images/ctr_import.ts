/**
 * Importing image archives into a containerd with `ctr`: images already there with the same digest,
 * complete and unpacked, are skipped, so a re-run is quick; the others are imported and unpacked
 * into the snapshotter (overlayfs by default: pods start without unpacking anything), labelled
 * `io.cri-containerd.pinned=pinned` so the kubelet's image garbage collection never removes an
 * image that no registry can give back. Every wanted image is checked afterwards.
 *
 * @example
 * const r = await importImages(ctr, "/run/cncfdemo/containerd.sock", archives, progress);
 * // r.summary: "imported 3 images (8 unchanged)"
 */
import { CncfdemoError } from "../errors.ts";
import { run } from "../run_program.ts";

export interface ImportOptions {
  /** containerd namespace (default `k8s.io`, the one the kubelet's CRI uses). */
  namespace?: string;
  /** Snapshotter to unpack into (default: containerd's default, overlayfs). */
  snapshotter?: string;
  /** Label the images pinned for the CRI (default true). */
  pin?: boolean;
}

/** What to import: an archive holding the image `ref` whose manifest digest is `manifestDigest`. */
export interface ImportItem {
  readonly ref: string;
  readonly archive: string;
  readonly manifestDigest: string;
}

export interface ImportResult {
  /** Refs imported now. */
  imported: string[];
  /** Refs already there with the same digest, unpacked. */
  unchanged: string[];
  /** "imported N images (M unchanged)". */
  summary: string;
}

/** An image as `ctr images check` reports it. */
export interface PresentImage {
  digest: string;
  complete: boolean;
  unpacked: boolean;
}

/** Parses `ctr images check` (REF TYPE DIGEST STATUS SIZE UNPACKED). */
export function parseImagesCheck(text: string): Map<string, PresentImage> {
  const out = new Map<string, PresentImage>();
  for (const line of text.split("\n").slice(1)) {
    const m = /^(\S+)\s+\S+\s+(sha256:[0-9a-f]{64})\s+(\S+).*\s(true|false)\s*$/.exec(line);
    if (m) {
      out.set(m[1]!, { digest: m[2]!, complete: m[3] === "complete", unpacked: m[4] === "true" });
    }
  }
  return out;
}

function plural(n: number): string {
  return `${n} image${n === 1 ? "" : "s"}`;
}

/** Imports the archives not already present into the containerd listening on `socket`. */
export async function importImages(
  ctr: string,
  socket: string,
  archives: readonly ImportItem[],
  progress: (message: string) => void = () => {},
  options: ImportOptions = {},
): Promise<ImportResult> {
  const ns = options.namespace ?? "k8s.io";
  const base = ["--address", socket, "--namespace", ns];
  const snapshotter = options.snapshotter ? ["--snapshotter", options.snapshotter] : [];
  const check = async () =>
    parseImagesCheck((await run(ctr, [...base, "images", "check", ...snapshotter])).stdout);
  const present = await check();
  const imported: string[] = [];
  const unchanged: string[] = [];
  for (const a of archives) {
    const p = present.get(a.ref);
    if (p && p.digest === a.manifestDigest && p.complete && p.unpacked) {
      unchanged.push(a.ref);
      continue;
    }
    progress(`importing ${a.ref}`);
    await run(ctr, [
      ...base,
      "images",
      "import",
      ...snapshotter,
      ...(options.pin === false ? [] : ["--label", "io.cri-containerd.pinned=pinned"]),
      a.archive,
    ]);
    imported.push(a.ref);
  }
  if (imported.length) {
    const after = await check();
    for (const a of archives) {
      const p = after.get(a.ref);
      if (!p || p.digest !== a.manifestDigest || !p.complete || !p.unpacked) {
        throw new CncfdemoError(
          `Importing ${a.archive} did not leave ${a.ref} (${a.manifestDigest}) complete and unpacked in containerd (namespace ${ns}): ${
            p
              ? `it has ${p.digest}, complete ${p.complete}, unpacked ${p.unpacked}`
              : "it is absent"
          }`,
        );
      }
    }
  }
  const summary = `imported ${plural(imported.length)} (${unchanged.length} unchanged)`;
  progress(summary);
  return { imported, unchanged, summary };
}
