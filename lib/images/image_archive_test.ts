import assert from "node:assert/strict";
import { CncfdemoError } from "../errors.ts";
import { CATALOG } from "./catalog.ts";
import { checkCanBuild, ensureImageArchive, planImageArchive } from "./image_archive.ts";
import { IMAGES_DIR } from "./recipe.ts";

async function withDirs<T>(fn: (images: string, out: string) => Promise<T>): Promise<T> {
  const t = await Deno.makeTempDir({ prefix: "cncfdemo-plan-" });
  try {
    await Deno.mkdir(`${t}/images`);
    await Deno.mkdir(`${t}/out`);
    return await fn(`${t}/images`, `${t}/out`);
  } finally {
    await Deno.remove(t, { recursive: true });
  }
}

async function copyImage(name: string, to: string): Promise<void> {
  await Deno.mkdir(`${to}/${name}`);
  for await (const e of Deno.readDir(`${IMAGES_DIR}/${name}`)) {
    await Deno.copyFile(`${IMAGES_DIR}/${name}/${e.name}`, `${to}/${name}/${e.name}`);
  }
}

Deno.test("planImageArchive: the key is stable, and changes with the recipe's files and the compression", async () => {
  await withDirs(async (images, out) => {
    await copyImage("wrk", images);
    const opts = { imagesDir: images, outDir: out };
    const a = await planImageArchive(CATALOG.wrk, opts);
    assert.equal((await planImageArchive(CATALOG.wrk, opts)).key, a.key);
    assert.equal(a.archive, `${out}/wrk-${a.key}.oci.tar`);
    assert.equal(a.cached, undefined);
    await Deno.writeTextFile(`${images}/wrk/bench.lua`, "\n-- changed\n", { append: true });
    const b = await planImageArchive(CATALOG.wrk, opts);
    assert.notEqual(b.key, a.key);
    // another compression is another archive
    const c = await planImageArchive(CATALOG.wrk, { ...opts, compression: "gzip" });
    assert.notEqual(c.key, b.key);
  });
});

Deno.test("planImageArchive: an archive is reused only with its sidecar and its size", async () => {
  await withDirs(async (images, out) => {
    await copyImage("pause", images);
    const opts = { imagesDir: images, outDir: out };
    const p = await planImageArchive(CATALOG.pause, opts);
    await Deno.writeTextFile(p.archive, "x".repeat(10));
    assert.equal((await planImageArchive(CATALOG.pause, opts)).cached, undefined); // no sidecar
    const side = { name: "pause", ref: CATALOG.pause.ref, archive: p.archive, size: 10 };
    await Deno.writeTextFile(p.sidecar, JSON.stringify({ ...side, manifestDigest: "sha256:ab" }));
    const cached = (await planImageArchive(CATALOG.pause, opts)).cached;
    assert.equal(cached?.status, "unchanged");
    assert.equal(cached?.manifestDigest, "sha256:ab");
    await Deno.writeTextFile(p.archive, "x".repeat(11)); // half written or replaced
    assert.equal((await planImageArchive(CATALOG.pause, opts)).cached, undefined);
  });
});

Deno.test("checkCanBuild: refuses in one line when not root, only if something must be built", async () => {
  await withDirs(async (images, out) => {
    await copyImage("pause", images);
    const plan = await planImageArchive(CATALOG.pause, { imagesDir: images, outDir: out });
    await assert.rejects(
      checkCanBuild([plan], "bake --target images", 1000),
      new CncfdemoError(
        "bake --target images needs root (debootstrap, chroot, overlay mounts): run it with sudo",
      ),
    );
    const cached = {
      ...plan,
      cached: {
        ...plan,
        name: "pause",
        ref: "r",
        manifestDigest: "d",
        size: 1,
        status: "unchanged" as const,
      },
    };
    await checkCanBuild([cached], "bake --target images", 1000); // nothing to build: fine
  });
});

Deno.test("checkCanBuild: a Debian image with no base and no debootstrap is refused in one line", async () => {
  await withDirs(async (images, out) => {
    await copyImage("tools", images);
    const oldCache = Deno.env.get("CNCFDEMO_CACHE_DIR");
    const oldPath = Deno.env.get("PATH")!;
    Deno.env.set("CNCFDEMO_CACHE_DIR", out); // an empty cache: no Debian base
    try {
      const plan = await planImageArchive(CATALOG.tools, { imagesDir: images, outDir: out });
      Deno.env.set("PATH", "/nonexistent:/bin"); // sh, but no debootstrap
      await assert.rejects(
        checkCanBuild([plan], "bake --target images", 0),
        new CncfdemoError(
          "bake --target images needs debootstrap for the Debian base (image tools): apt-get install debootstrap",
        ),
      );
    } finally {
      Deno.env.set("PATH", oldPath);
      if (oldCache === undefined) Deno.env.delete("CNCFDEMO_CACHE_DIR");
      else Deno.env.set("CNCFDEMO_CACHE_DIR", oldCache);
    }
  });
});

Deno.test("ensureImageArchive: an image with no recipe is a one-line error naming where it comes from", async () => {
  await assert.rejects(
    ensureImageArchive(CATALOG.grafana),
    new CncfdemoError(
      "Image grafana cannot be built here (no recipe: it is pulled from docker.io/grafana/grafana:12.1.1)",
    ),
  );
});
