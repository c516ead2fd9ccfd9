/**
 * `bake --target images` as steps: the Debian base first when an image needs it and it is not
 * cached (debootstrap), then one step per image, each ending "built (size)" or "unchanged (size)".
 * Refuses in one line, before any work, when something must be built and this is not root or
 * debootstrap is missing.
 */
import { runSteps, type Step, step } from "../steps.ts";
import { withImagesLock } from "./cache.ts";
import type { CatalogImage } from "./catalog.ts";
import { debianBaseLayer, ensureDebianBase, SUITE } from "./debian_base.ts";
import {
  type ArchiveOptions,
  checkCanBuild,
  DEFAULT_COMPRESSION,
  ensureImageArchive,
  type ImageArchive,
  needsDebianBase,
  planImageArchive,
} from "./image_archive.ts";

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Builds (or finds unchanged) the archives of `images`, printing a step per image. */
export async function bakeImagesSteps(
  images: readonly CatalogImage[],
  options: ArchiveOptions = {},
): Promise<ImageArchive[]> {
  const plans = await Promise.all(images.map((i) => planImageArchive(i, options)));
  await checkCanBuild(plans, "bake --target images");
  const results: ImageArchive[] = [];
  const steps: Step[] = [];
  const base = [];
  for (const p of plans) if (await needsDebianBase(p)) base.push(p.image.name);
  if (base.length) {
    steps.push(step(`Debian ${SUITE} base (debootstrap)`, async (ctx) => {
      return await withImagesLock(ctx.progress, async () => {
        const b = await ensureDebianBase(ctx.progress);
        const { layer } = await debianBaseLayer(
          b,
          options.compression ?? DEFAULT_COMPRESSION,
          ctx.progress,
        );
        return `${b.built ? "built" : "unchanged"}, layer ${mb(layer.size)}`;
      });
    }));
  }
  for (const p of plans) {
    steps.push(step(`Image ${p.image.name}`, async (ctx) => {
      const r = p.cached ??
        await ensureImageArchive(p.image, { ...options, progress: ctx.progress });
      results.push(r);
      return `${r.status} (${mb(r.size)})`;
    }));
  }
  await runSteps(steps);
  return results;
}
