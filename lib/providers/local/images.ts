/**
 * Action "images": where the node's images come from. `offline`: every image the catalog can build
 * here is built into OCI archives (bake's recipes, cached) and imported into the node's containerd;
 * `pull`: only our own images are imported, the rest are pulled from their registries. The mode is
 * recorded on the node (annotation `cncfdemo.io/images`), so that the rollout and the demo know
 * which images the cluster can have without asking anyone.
 */
import { ensureImageArchives, importImages, selectImages } from "../../container_images.ts";
import { IMAGES_ANNOTATION } from "../../stack/image_availability.ts";
import type { LocalContext } from "./context.ts";
import type { ImagesMode } from "../../container_images.ts";

/** The registry probed when no mode is given (any HTTP answer means it can be reached). */
const PROBE_URL = "https://registry-1.docker.io/v2/";

/** The mode to use: the one given, else `pull` when a registry answers within 3 s, else offline. */
export async function chooseImagesMode(
  given: ImagesMode | undefined,
  progress: (m: string) => void,
): Promise<ImagesMode> {
  if (given) return given;
  progress(`asking ${new URL(PROBE_URL).host} whether a registry answers`);
  try {
    const res = await fetch(PROBE_URL, { method: "HEAD", signal: AbortSignal.timeout(3_000) });
    await res.body?.cancel();
    return "pull";
  } catch {
    return "offline";
  }
}

/** Builds (when needed) and imports the node's images: the mode's set from the catalog. */
export async function ensureNodeImages(
  ctx: LocalContext,
  progress: (m: string) => void,
): Promise<string> {
  const { build } = selectImages(ctx.images!);
  const archives = await ensureImageArchives(build.map((i) => i.name), {
    progress,
    ...(ctx.options.binDir ? { binDir: ctx.options.binDir } : {}),
  });
  const built = archives.filter((a) => a.status === "built").map((a) => a.name);
  const r = await importImages(ctx.bins!.ctr, ctx.layout.containerdSocket, archives, progress);
  ctx.imported = archives.map((a) => a.ref);
  return built.length ? `built ${built.join(", ")}; ${r.summary}` : r.summary;
}

/** Records the images mode on the node. */
export async function markNodeImages(ctx: LocalContext): Promise<void> {
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: ctx.layout.nodeName, annotations: { [IMAGES_ANNOTATION]: ctx.images! } },
  };
  await ctx.kube!.rest.apply(node, { fieldManager: "cncfdemo-local" });
}
