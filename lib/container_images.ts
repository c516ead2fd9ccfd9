/**
 * Container images with no Docker daemon and no registry: the catalog's images
 * (lib/images/catalog.ts) built offline from their recipes into OCI archives
 * (`bake --target images`), and imported into a node's containerd (the `local` provider).
 *
 * @example
 * const archives = await ensureImageArchives(["pause", "coredns", "tools"], { progress });
 * await importImages(ctr, "/run/cncfdemo/containerd.sock", archives, progress);
 */
import { CncfdemoError, UsageError } from "./errors.ts";
import { type CatalogImage, IMAGES } from "./images/catalog.ts";
import {
  type ArchiveOptions,
  checkCanBuild,
  ensureImageArchive,
  type ImageArchive,
  planImageArchive,
} from "./images/image_archive.ts";

export type { ArchiveOptions, ImageArchive } from "./images/image_archive.ts";
export { importImages, type ImportOptions, type ImportResult } from "./images/ctr_import.ts";

/** Which images a cluster gets from archives: `offline` every image with a recipe, `pull` ours. */
export type ImagesMode = "offline" | "pull";

/** The images to build for a mode (optionally only some), and those that can only be pulled. */
export function selectImages(
  mode: ImagesMode,
  only: readonly string[] = [],
): { build: CatalogImage[]; pulled: CatalogImage[] } {
  const known = new Map(IMAGES.map((i) => [i.name, i]));
  for (const name of only) {
    if (!known.has(name)) {
      throw new UsageError(
        `Unknown image "${name}"; the catalog has ${[...known.keys()].join(", ")}`,
      );
    }
  }
  const wanted = only.length ? IMAGES.filter((i) => only.includes(i.name)) : IMAGES;
  const build: CatalogImage[] = [];
  const pulled: CatalogImage[] = [];
  for (const image of wanted) {
    if (!image.recipe) pulled.push(image);
    else if (mode === "offline" || image.own || only.includes(image.name)) build.push(image);
  }
  return { build, pulled };
}

/**
 * The archives of the named images, building what is missing or out of date (needs root to build;
 * cached archives are returned as they are). Images with no recipe are a one-line error.
 */
export async function ensureImageArchives(
  names: readonly string[],
  options: ArchiveOptions = {},
): Promise<ImageArchive[]> {
  const images = names.map((name) => {
    const image = IMAGES.find((i) => i.name === name);
    if (!image) {
      throw new CncfdemoError(
        `Unknown image "${name}"; the catalog has ${IMAGES.map((i) => i.name).join(", ")}`,
      );
    }
    return image;
  });
  const plans = await Promise.all(images.map((i) => planImageArchive(i, options)));
  await checkCanBuild(plans);
  const out: ImageArchive[] = [];
  for (const image of images) {
    const progress = options.progress;
    out.push(
      await ensureImageArchive(image, {
        ...options,
        ...(progress ? { progress: (m: string) => progress(`${image.name}: ${m}`) } : {}),
      }),
    );
  }
  return out;
}
