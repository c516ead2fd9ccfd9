import assert from "node:assert/strict";
import { CncfdemoError } from "../errors.ts";
import { IMAGES } from "./catalog.ts";
import { IMAGES_DIR, loadRecipe } from "./recipe.ts";

async function withRecipe(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-recipe-" });
  try {
    await Deno.mkdir(`${dir}/demo`);
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/demo/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function oneLineError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CncfdemoError, String(err));
    assert.ok(!err.message.includes("\n"), err.message);
    return err.message;
  }
  assert.fail("expected an error");
}

Deno.test("loadRecipe: a listed file that is missing is a one-line error naming it", async () => {
  const recipe = {
    files: [{ from: "bench.lua", to: "/opt/cncfdemo/bench.lua" }],
    config: { Entrypoint: ["/bin/true"] },
  };
  await withRecipe({ "image.json": JSON.stringify(recipe) }, async (dir) => {
    assert.equal(
      await oneLineError(loadRecipe("demo", dir)),
      "Cannot build image demo: images/demo/bench.lua is missing (listed in images/demo/image.json)",
    );
  });
});

Deno.test("loadRecipe: a missing image.json and bad contents are one-line errors", async () => {
  await withRecipe({}, async (dir) => {
    assert.equal(
      await oneLineError(loadRecipe("demo", dir)),
      "Cannot build image demo: images/demo/image.json is missing (every image with a recipe has one)",
    );
  });
  const cases: [string, RegExp][] = [
    ["{", /image\.json: not valid JSON/],
    [`{"config": {}, "colour": 1}`, /image\.json: unknown key "colour"/],
    [`{"config": {"Entrypoint": "/x"}}`, /config\.Entrypoint must be a list of strings/],
    [`{"config": {"ExposedPorts": ["http"]}}`, /config\.ExposedPorts must be a list like/],
    [`{"config": {}, "files": [{"from": "../x", "to": "/x"}]}`, /files\[0\]\.from must be/],
    [`{"config": {}, "dirs": [{"path": "rel"}]}`, /dirs\[0\]\.path must be an absolute path/],
    [`{"config": {}, "dirs": [{"path": "/d", "mode": "rwx"}]}`, /must be an octal mode/],
    [`{}`, /"config" is required/],
  ];
  for (const [text, want] of cases) {
    await withRecipe({ "image.json": text }, async (dir) => {
      assert.match(await oneLineError(loadRecipe("demo", dir)), want);
    });
  }
});

Deno.test("loadRecipe: PATH by default, numeric users recorded as labels, ports as a map", async () => {
  const recipe = {
    config: { User: "10001:10002", Env: ["A=b"], ExposedPorts: ["8080/tcp", "53/udp"] },
  };
  await withRecipe({ "image.json": JSON.stringify(recipe) }, async (dir) => {
    const r = await loadRecipe("demo", dir);
    assert.deepEqual(r.config.Env, [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "A=b",
    ]);
    assert.deepEqual(r.config.Labels, {
      "io.cncfdemo.image.uid": "10001",
      "io.cncfdemo.image.gid": "10002",
    });
    assert.deepEqual(r.config.ExposedPorts, { "8080/tcp": {}, "53/udp": {} });
  });
});

Deno.test("loadRecipe: the hash covers every file of the image's directory", async () => {
  await withRecipe({ "image.json": `{"config": {}}`, "extra.txt": "a" }, async (dir) => {
    const a = (await loadRecipe("demo", dir)).filesHash;
    assert.equal((await loadRecipe("demo", dir)).filesHash, a);
    await Deno.writeTextFile(`${dir}/demo/extra.txt`, "b");
    const b = (await loadRecipe("demo", dir)).filesHash;
    assert.notEqual(b, a);
    await Deno.chmod(`${dir}/demo/extra.txt`, 0o755);
    assert.notEqual((await loadRecipe("demo", dir)).filesHash, b);
  });
});

Deno.test("every catalog image with a recipe has a valid images/<name>/image.json that fits it", async () => {
  for (const image of IMAGES) {
    if (!image.recipe) continue;
    const r = await loadRecipe(image.name, IMAGES_DIR);
    if (image.recipe.kind === "go") {
      assert.deepEqual(
        Object.keys(r.binaries).sort(),
        [...image.recipe.binaries].sort(),
        image.name,
      );
    } else {
      assert.deepEqual(r.binaries, {}, image.name);
    }
    assert.equal(r.compile.length > 0, image.recipe.kind === "static-c", image.name);
    if (image.own) assert.ok(r.description, `${image.name} has a description`);
  }
});

Deno.test("the images run as upstream's do: non-root where upstream is", async () => {
  const user = async (name: string) => (await loadRecipe(name)).config.User;
  assert.equal(await user("pause"), "65535:65535");
  assert.equal(await user("wrk"), "65532:65532");
  assert.equal(await user("bench-target"), "65532:65532");
  assert.equal(await user("boinc"), "10001:10001");
  assert.equal(await user("coredns"), "65532:65532");
  for (const n of ["prometheus", "pushgateway", "node-exporter", "metrics-server"]) {
    assert.equal(await user(n), "65534:65534", n);
  }
  const boinc = await loadRecipe("boinc");
  assert.deepEqual(boinc.users.map((u) => [u.name, u.uid, u.gid]), [["boinc", 10001, 10001]]);
  const prom = await loadRecipe("prometheus");
  assert.deepEqual(prom.config.Cmd, [
    "--config.file=/etc/prometheus/prometheus.yml",
    "--storage.tsdb.path=/prometheus",
  ]);
});
