import assert from "node:assert/strict";
import { run } from "../run_program.ts";
import { tarLayer } from "./layer_tar.ts";
import { MountStack, mountsUnder } from "../mounts.ts";
import { convertWhiteouts, unescapeGetfattrPath } from "./whiteouts.ts";

const isRoot = Deno.uid() === 0;

Deno.test("unescapeGetfattrPath: octal escapes and backslashes", () => {
  assert.equal(unescapeGetfattrPath("/a/b\\040c"), "/a/b c");
  assert.equal(unescapeGetfattrPath("/a\\\\b"), "/a\\b");
  assert.equal(unescapeGetfattrPath("/caf\\303\\251"), "/café");
  assert.equal(unescapeGetfattrPath("/plain"), "/plain");
});

Deno.test({
  name: "convertWhiteouts: a real overlay's deletions and opaque directory become OCI markers",
  ignore: !isRoot,
  // (ignored when not root: overlay mounts and whiteout devices need root)
  async fn() {
    const t = await Deno.makeTempDir({ prefix: "cncfdemo-wh-" });
    const mounts = new MountStack();
    try {
      for (const d of ["lower/replaced", "lower/kept", "upper", "work", "merged"]) {
        await Deno.mkdir(`${t}/${d}`, { recursive: true });
      }
      await Deno.writeTextFile(`${t}/lower/deleted`, "gone\n");
      await Deno.writeTextFile(`${t}/lower/replaced/old`, "old\n");
      await Deno.writeTextFile(`${t}/lower/kept/file`, "kept\n");
      await mounts.mount([
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${t}/lower,upperdir=${t}/upper,workdir=${t}/work`,
      ], `${t}/merged`);
      const m = `${t}/merged`;
      await Deno.remove(`${m}/deleted`);
      await Deno.remove(`${m}/kept/file`);
      await Deno.remove(`${m}/replaced`, { recursive: true });
      await Deno.mkdir(`${m}/replaced`);
      await Deno.writeTextFile(`${m}/replaced/new`, "new\n");
      await Deno.mkdir(`${m}/brand-new`);
      await Deno.writeTextFile(`${m}/brand-new/file`, "x\n");
      await mounts.unmountAll();

      // what overlayfs wrote: whiteout devices 0/0
      const dev = await Deno.lstat(`${t}/upper/deleted`);
      assert.ok(dev.isCharDevice && dev.rdev === 0);

      const n = await convertWhiteouts(`${t}/upper`, `${t}/lower`);
      assert.deepEqual(n, { whiteouts: 2, opaque: 1 });
      const layer = await tarLayer(`${t}/upper`, `${t}/layer.tar`, { compression: "none" });
      const listing = (await run("tar", ["--list", "--verbose", "--file", layer.path])).stdout
        .trim().split("\n");
      const entries = listing.map((l) => l.split(/\s+/).slice(5).join(" "));
      assert.deepEqual(entries.filter((e) => !e.endsWith("/")), [
        "./.wh.deleted",
        "./brand-new/file",
        "./kept/.wh.file",
        "./replaced/.wh..wh..opq",
        "./replaced/new",
      ]);
      // markers are empty regular files; no device is left in the layer
      for (const l of listing.filter((l) => l.includes(".wh."))) {
        assert.match(l, /^-rw-r--r-- .* 0 1970/);
      }
      assert.ok(!listing.some((l) => l.startsWith("c")), listing.join("\n"));
    } finally {
      await mounts.unmountAll();
      assert.deepEqual(await mountsUnder(t), []);
      await Deno.remove(t, { recursive: true });
    }
  },
});

Deno.test({
  name: "convertWhiteouts: without the lower directory every opaque directory gets a marker",
  ignore: !isRoot,
  async fn() {
    const t = await Deno.makeTempDir({ prefix: "cncfdemo-wh-" });
    try {
      await Deno.mkdir(`${t}/a/b`, { recursive: true });
      await run("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", `${t}/a/b`]);
      await run("mknod", [`${t}/a/gone`, "c", "0", "0"]);
      assert.deepEqual(await convertWhiteouts(t), { whiteouts: 1, opaque: 1 });
      assert.ok((await Deno.lstat(`${t}/a/.wh.gone`)).isFile);
      assert.ok((await Deno.lstat(`${t}/a/b/.wh..wh..opq`)).isFile);
      await assert.rejects(Deno.lstat(`${t}/a/gone`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(t, { recursive: true });
    }
  },
});
