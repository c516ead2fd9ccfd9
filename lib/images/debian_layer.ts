/**
 * The layer of a Debian image: an overlay with the base as its lower directory and an empty upper
 * directory; in it (chroot) the recipe's users are created with fixed ids, the packages installed
 * with apt-get, the recipe's files copied and directories made, then apt's lists, caches and logs
 * removed. Everything is unmounted (also on failure) and the upper directory — what changed,
 * overlay whiteouts turned into OCI ones — becomes the layer.
 */
import { CncfdemoError } from "../errors.ts";
import { run } from "../run_program.ts";
import { buildSignal, imagesCacheDir } from "./cache.ts";
import { aptProgress, chrootRun, withApt } from "./chroot.ts";
import { aptCaches, CLEAN_SCRIPT, type DebianBase } from "./debian_base.ts";
import { type Compression, type LayerBlob, tarLayer } from "./layer_tar.ts";
import { MountStack, mountsUnder } from "../mounts.ts";
import type { ImageRecipe } from "./recipe.ts";
import { convertWhiteouts } from "./whiteouts.ts";

/** Copies the recipe's files into `root` and makes its directories and file capabilities. */
export async function placeRecipeContent(recipe: ImageRecipe, root: string): Promise<void> {
  for (const d of recipe.dirs) {
    await mkdirs(root, d.path);
    await Deno.chmod(`${root}${d.path}`, d.mode);
    await Deno.chown(`${root}${d.path}`, d.owner[0], d.owner[1]);
  }
  for (const f of recipe.files) {
    const to = `${root}${f.to}`;
    await mkdirs(root, f.to.slice(0, f.to.lastIndexOf("/")) || "/");
    await Deno.remove(to).catch(() => {});
    await Deno.copyFile(`${recipe.dir}/${f.from}`, to);
    await Deno.chmod(to, f.mode);
    await Deno.chown(to, f.owner[0], f.owner[1]);
  }
  for (const [path, spec] of Object.entries(recipe.capabilities)) {
    await run("setcap", [spec, `${root}${path}`], { installHint: "apt-get install libcap2-bin" });
  }
}

/** mkdir -p inside `root`: new directories are 0755 root:root. */
export async function mkdirs(root: string, path: string): Promise<void> {
  let cur = root;
  for (const part of path.split("/").filter(Boolean)) {
    cur = `${cur}/${part}`;
    try {
      await Deno.mkdir(cur);
      await Deno.chmod(cur, 0o755);
      await Deno.chown(cur, 0, 0);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
}

/** Builds the image layer of a Debian recipe on `base`, written to `out`. */
export async function buildDebianLayer(
  base: DebianBase,
  recipe: ImageRecipe,
  packages: readonly string[],
  out: string,
  options: { compression: Compression; progress: (message: string) => void },
): Promise<LayerBlob> {
  const { progress } = options;
  const parent = `${imagesCacheDir()}/work`;
  await Deno.mkdir(parent, { recursive: true });
  const work = await Deno.makeTempDir({ dir: parent, prefix: `${recipe.name}-` });
  const upper = `${work}/upper`;
  const merged = `${work}/merged`;
  try {
    await Deno.mkdir(upper, { mode: 0o755 });
    await Deno.chmod(upper, 0o755);
    await Deno.mkdir(`${work}/ovl-work`);
    await Deno.mkdir(merged);
    const mounts = new MountStack();
    try {
      // index/metacopy/redirect_dir off: the upper directory holds whole files and real names
      await mounts.mount([
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${base.rootfs},upperdir=${upper},workdir=${work}/ovl-work,index=off,metacopy=off,redirect_dir=off`,
      ], merged);
      for (const u of recipe.users) {
        progress(`creating user ${u.name} (${u.uid}:${u.gid})`);
        await chrootRun(merged, ["groupadd", "--system", "--gid", String(u.gid), u.name]);
        await chrootRun(merged, [
          "useradd",
          "--system",
          "--uid",
          String(u.uid),
          "--gid",
          String(u.gid),
          "--home-dir",
          u.home,
          "--no-create-home",
          "--shell",
          "/usr/sbin/nologin",
          u.name,
        ]);
      }
      await withApt(merged, aptCaches(), async () => {
        progress("apt-get update");
        await chrootRun(merged, ["apt-get", "-q", "update"]);
        progress(`installing ${packages.join(", ")}`);
        await chrootRun(
          merged,
          ["apt-get", "-q", "-y", "install", "--no-install-recommends", ...packages],
          (l) => {
            const p = aptProgress(l);
            if (p) progress(p);
          },
        );
      });
      await placeRecipeContent(recipe, merged);
      await chrootRun(merged, ["sh", "-ec", CLEAN_SCRIPT]);
    } finally {
      await mounts.unmountAll();
    }
    const wh = await convertWhiteouts(upper, base.rootfs);
    if (wh.whiteouts || wh.opaque) {
      progress(`${wh.whiteouts} deletions, ${wh.opaque} opaque directories in the layer`);
    }
    progress("packing the layer");
    return await tarLayer(upper, out, { compression: options.compression, signal: buildSignal() });
  } finally {
    await removeWorkDir(work);
  }
}

/** Removes a build's work directory — never through a mount (that would delete the base). */
export async function removeWorkDir(work: string): Promise<void> {
  const left = await mountsUnder(work);
  if (left.length) {
    throw new CncfdemoError(
      `Still mounted after the build: ${left.join(", ")}; unmount them (umount) and remove ${work}`,
    );
  }
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
