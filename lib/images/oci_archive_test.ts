import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { run } from "../run_program.ts";
import { type Compression, type LayerBlob, tarLayer } from "./layer_tar.ts";
import { MEDIA_TYPES, type OciImage, writeOciArchive } from "./oci_archive.ts";

async function sha256File(path: string): Promise<string> {
  return `sha256:${createHash("sha256").update(await Deno.readFile(path)).digest("hex")}`;
}

/** A small tree: files, a subdirectory, a symlink, an executable, varied mtimes. */
async function makeTree(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/etc/app`, { recursive: true });
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(`${dir}/etc/app/config.yml`, "answer: 42\n");
  await Deno.writeTextFile(`${dir}/bin/tool`, "#!/bin/sh\necho hi\n");
  await Deno.chmod(`${dir}/bin/tool`, 0o755);
  await Deno.symlink("app/config.yml", `${dir}/etc/link`);
  await Deno.utime(`${dir}/etc/app/config.yml`, 1_000, 1_000);
  await Deno.utime(`${dir}/bin/tool`, 2_000_000_000, 2_000_000_000);
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-oci-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const compression of ["none", "gzip", "zstd"] as Compression[]) {
  Deno.test(`tarLayer (${compression}): the same tree gives the same digests, whatever the mtimes`, async () => {
    await withTemp(async (t) => {
      await makeTree(`${t}/a`);
      await makeTree(`${t}/b`);
      await Deno.utime(`${t}/b/etc/app/config.yml`, 5, 5); // only times differ
      const a = await tarLayer(`${t}/a`, `${t}/a.layer`, { compression });
      const b = await tarLayer(`${t}/b`, `${t}/b.layer`, { compression });
      assert.equal(a.digest, b.digest);
      assert.equal(a.diffId, b.diffId);
      assert.equal(a.digest, await sha256File(`${t}/a.layer`));
      assert.equal(a.size, (await Deno.stat(`${t}/a.layer`)).size);
      if (compression === "none") assert.equal(a.digest, a.diffId);
      else assert.notEqual(a.digest, a.diffId);
      // and content does matter
      await Deno.writeTextFile(`${t}/b/etc/app/config.yml`, "answer: 43\n");
      const c = await tarLayer(`${t}/b`, `${t}/c.layer`, { compression });
      assert.notEqual(c.diffId, a.diffId);
    });
  });
}

Deno.test("tarLayer: entries sorted, mtime 0, numeric owners, no leftovers beside the blob", async () => {
  await withTemp(async (t) => {
    await makeTree(`${t}/tree`);
    await Deno.mkdir(`${t}/out`);
    await tarLayer(`${t}/tree`, `${t}/out/layer.tar`, { compression: "none" });
    const listing =
      (await run("tar", ["--list", "--verbose", "--numeric-owner", "--file", `${t}/out/layer.tar`]))
        .stdout.trim().split("\n");
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(" "));
    assert.deepEqual(names, [
      "./",
      "./bin/",
      "./bin/tool",
      "./etc/",
      "./etc/app/",
      "./etc/app/config.yml",
      "./etc/link -> app/config.yml",
    ]);
    assert.ok(listing.every((l) => l.includes("1970-01-01 00:00")), listing.join("\n"));
    assert.match(listing[2]!, /^-rwxr-xr-x /);
    assert.deepEqual([...Deno.readDirSync(`${t}/out`)].map((e) => e.name), ["layer.tar"]);
  });
});

Deno.test("tarLayer: a missing directory is a one-line error and leaves no file", async () => {
  await withTemp(async (t) => {
    await assert.rejects(
      tarLayer(`${t}/nope`, `${t}/layer.tar.zst`, { compression: "zstd" }),
      (err: Error) => {
        assert.match(err.message, /^tar of .*\/nope failed: .*No such file or directory/);
        assert.ok(!err.message.includes("\n"));
        return true;
      },
    );
    assert.deepEqual([...Deno.readDirSync(t)], []);
  });
});

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("writeOciArchive: valid layout, media types, diff_ids of the uncompressed layers, names", async () => {
  await withTemp(async (t) => {
    await makeTree(`${t}/l1`);
    await Deno.mkdir(`${t}/l2/opt`, { recursive: true });
    await Deno.writeTextFile(`${t}/l2/opt/extra`, "x\n");
    const layers: LayerBlob[] = [
      await tarLayer(`${t}/l1`, `${t}/l1.tar.gz`, { compression: "gzip" }),
      await tarLayer(`${t}/l2`, `${t}/l2.tar.zst`, { compression: "zstd" }),
    ];
    const image: OciImage = {
      ref: "ghcr.io/cncfdemo/test:0.1.0",
      layers,
      config: { User: "65532:65532", Entrypoint: ["/bin/tool"], ExposedPorts: { "8080/tcp": {} } },
      history: ["first", "second"],
    };
    const [w] = await writeOciArchive(`${t}/image.oci.tar`, [image]);
    await Deno.mkdir(`${t}/x`);
    await run("tar", ["--extract", "--file", `${t}/image.oci.tar`, "--directory", `${t}/x`]);
    assert.deepEqual(await readJson(`${t}/x/oci-layout`), { imageLayoutVersion: "1.0.0" });
    const index = await readJson(`${t}/x/index.json`);
    assert.equal(index["schemaVersion"], 2);
    assert.equal(index["mediaType"], MEDIA_TYPES.index);
    const [desc] = index["manifests"] as Record<string, unknown>[];
    assert.equal(desc!["mediaType"], MEDIA_TYPES.manifest);
    assert.equal(desc!["digest"], w!.manifestDigest);
    assert.deepEqual(desc!["annotations"], {
      "io.containerd.image.name": "ghcr.io/cncfdemo/test:0.1.0",
      "org.opencontainers.image.ref.name": "ghcr.io/cncfdemo/test:0.1.0",
    });
    const blob = (d: string) => `${t}/x/blobs/sha256/${d.slice(7)}`;
    // every blob is named by its digest, and every size is right
    for await (const e of Deno.readDir(`${t}/x/blobs/sha256`)) {
      assert.equal(await sha256File(`${t}/x/blobs/sha256/${e.name}`), `sha256:${e.name}`);
    }
    assert.equal(desc!["size"], (await Deno.stat(blob(w!.manifestDigest))).size);
    const manifest = await readJson(blob(w!.manifestDigest));
    assert.equal(manifest["mediaType"], MEDIA_TYPES.manifest);
    const cfgDesc = manifest["config"] as Record<string, unknown>;
    assert.equal(cfgDesc["mediaType"], MEDIA_TYPES.config);
    assert.equal(cfgDesc["digest"], w!.configDigest);
    const mLayers = manifest["layers"] as Record<string, unknown>[];
    assert.deepEqual(mLayers.map((l) => l["mediaType"]), [
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
    ]);
    const config = await readJson(blob(w!.configDigest));
    assert.equal(config["os"], "linux");
    assert.equal(typeof config["architecture"], "string");
    assert.deepEqual(config["config"], image.config);
    // diff_ids: sha256 of each layer decompressed by gzip and zstd themselves
    const uncompressed = [
      (await new Deno.Command("gzip", { args: ["-dc", blob(mLayers[0]!["digest"] as string)] })
        .output()).stdout,
      (await new Deno.Command("zstd", { args: ["-dc", blob(mLayers[1]!["digest"] as string)] })
        .output()).stdout,
    ];
    const rootfs = config["rootfs"] as { type: string; diff_ids: string[] };
    assert.equal(rootfs.type, "layers");
    assert.deepEqual(
      rootfs.diff_ids,
      uncompressed.map((u) => `sha256:${createHash("sha256").update(u).digest("hex")}`),
    );
    assert.deepEqual(
      (config["history"] as { created_by: string }[]).map((h) => h.created_by),
      ["first", "second"],
    );
  });
});

Deno.test("writeOciArchive: the same images give a byte-identical archive", async () => {
  await withTemp(async (t) => {
    await makeTree(`${t}/l1`);
    const layer = await tarLayer(`${t}/l1`, `${t}/l1.tar.zst`, { compression: "zstd" });
    const image: OciImage = { ref: "registry.k8s.io/pause:3.10.1", layers: [layer], config: {} };
    const [a] = await writeOciArchive(`${t}/a.tar`, [image]);
    const [b] = await writeOciArchive(`${t}/b.tar`, [image]);
    assert.equal(a!.manifestDigest, b!.manifestDigest);
    assert.equal(await sha256File(`${t}/a.tar`), await sha256File(`${t}/b.tar`));
    const [c] = await writeOciArchive(`${t}/c.tar`, [{ ...image, config: { User: "1" } }]);
    assert.notEqual(c!.manifestDigest, a!.manifestDigest);
    // no temporary layout or archive is left beside the archives
    const names = [...Deno.readDirSync(t)].map((e) => e.name).sort();
    assert.deepEqual(names, ["a.tar", "b.tar", "c.tar", "l1", "l1.tar.zst"]);
  });
});
