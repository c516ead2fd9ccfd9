/**
 * The single layer of an image with no distribution in it (Go binaries, the static pause
 * program): a directory staged from nothing, then packed.
 *
 * With `baseFiles`, the layer also has what a static program expects of a minimal system:
 * `/etc/passwd` and `/etc/group` (root, nobody 65534, nonroot 65532), `/etc/nsswitch.conf`
 * (files before DNS, for Go's resolver), the Mozilla CA certificates of Debian's ca-certificates
 * package in `/etc/ssl/certs/ca-certificates.crt` (not the host's bundle, which may carry local
 * authorities), and `/tmp` (1777).
 */
import { createHash } from "node:crypto";
import { CncfdemoError } from "../errors.ts";
import { buildSignal, imagesCacheDir } from "./cache.ts";
import { mkdirs, placeRecipeContent, removeWorkDir } from "./debian_layer.ts";
import { type Compression, type LayerBlob, tarLayer } from "./layer_tar.ts";
import type { ImageRecipe } from "./recipe.ts";

const PASSWD = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`;
const GROUP = `root:x:0:
nonroot:x:65532:
nobody:x:65534:
nogroup:x:65534:
`;
const NSSWITCH = `hosts: files dns
`;

const MOZILLA_CAS = "/usr/share/ca-certificates/mozilla";

/** The Mozilla CA certificates (Debian's ca-certificates package), concatenated in name order. */
export async function caBundle(dir = MOZILLA_CAS): Promise<string> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".crt")) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (names.length === 0) {
    throw new CncfdemoError(
      `Cannot put CA certificates in the images: ${dir} has none; apt-get install ca-certificates`,
    );
  }
  const parts: string[] = [];
  for (const n of names.sort()) {
    const text = await Deno.readTextFile(`${dir}/${n}`);
    parts.push(text.endsWith("\n") ? text : `${text}\n`);
  }
  return parts.join("");
}

/** sha256 (hex) of the CA bundle, for cache keys. */
export async function caBundleHash(): Promise<string> {
  return createHash("sha256").update(await caBundle()).digest("hex");
}

async function write(root: string, path: string, text: string, mode: number): Promise<void> {
  await mkdirs(root, path.slice(0, path.lastIndexOf("/")) || "/");
  await Deno.writeTextFile(`${root}${path}`, text);
  await Deno.chmod(`${root}${path}`, mode);
  await Deno.chown(`${root}${path}`, 0, 0);
}

/**
 * Stages `programs` (path in the image → file on this machine, installed 0755) with the recipe's
 * files, directories and capabilities, and packs the layer to `out`.
 */
export async function buildStagedLayer(
  recipe: ImageRecipe,
  programs: Readonly<Record<string, string>>,
  out: string,
  options: { compression: Compression; baseFiles: boolean },
): Promise<LayerBlob> {
  const parent = `${imagesCacheDir()}/work`;
  await Deno.mkdir(parent, { recursive: true });
  const work = await Deno.makeTempDir({ dir: parent, prefix: `${recipe.name}-` });
  const root = `${work}/root`;
  try {
    await Deno.mkdir(root);
    await Deno.chmod(root, 0o755);
    await Deno.chown(root, 0, 0);
    if (options.baseFiles) {
      await write(root, "/etc/passwd", PASSWD, 0o644);
      await write(root, "/etc/group", GROUP, 0o644);
      await write(root, "/etc/nsswitch.conf", NSSWITCH, 0o644);
      await write(root, "/etc/ssl/certs/ca-certificates.crt", await caBundle(), 0o644);
      await mkdirs(root, "/tmp");
      await Deno.chmod(`${root}/tmp`, 0o1777);
    }
    for (const [to, from] of Object.entries(programs)) {
      await mkdirs(root, to.slice(0, to.lastIndexOf("/")) || "/");
      await Deno.copyFile(from, `${root}${to}`);
      await Deno.chmod(`${root}${to}`, 0o755);
      await Deno.chown(`${root}${to}`, 0, 0);
    }
    await placeRecipeContent(recipe, root);
    return await tarLayer(root, out, { compression: options.compression, signal: buildSignal() });
  } finally {
    await removeWorkDir(work);
  }
}
