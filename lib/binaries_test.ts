import assert from "node:assert/strict";
import { componentCacheDir, moduleReplaces, resolveBinaries, stagingReplaces } from "./binaries.ts";
import { CncfdemoError } from "./errors.ts";

const GOMOD = new URL("../testdata/binaries/kubernetes-v1.36.3.go.mod", import.meta.url);

Deno.test("stagingReplaces: every k8s.io v0.0.0 requirement of k8s.io/kubernetes is pinned", async () => {
  const gomod = await Deno.readTextFile(GOMOD);
  const lines = stagingReplaces(gomod, "v1.36.3");
  const required = [...gomod.matchAll(/^\s+(k8s\.io\/\S+) v0\.0\.0$/gm)].map((m) => m[1]);
  assert.ok(required.length >= 30, `fixture has ${required.length} staging modules`);
  assert.equal(lines.length, new Set(required).size);
  assert.ok(lines.includes("replace k8s.io/api => k8s.io/api v0.36.3"));
  assert.ok(lines.includes("replace k8s.io/kubectl => k8s.io/kubectl v0.36.3"));
  assert.ok(
    lines.every((l) => /^replace (k8s\.io\/\S+) => \1 v0\.36\.3$/.test(l)),
    lines.join("\n"),
  );
  // non-staging k8s.io modules (real versions) are left alone
  assert.ok(!lines.some((l) => l.includes("k8s.io/klog")));
});

async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<T> {
  const old: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    old[k] = Deno.env.get(k);
    if (v === undefined) Deno.env.delete(k);
    else Deno.env.set(k, v);
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
}

Deno.test("resolveBinaries: explicit path first, then the cache, and never a build with noBuild", async () => {
  const dir = await Deno.makeTempDir();
  const cache = `${dir}/cache`;
  const explicit = `${dir}/my-kubectl`;
  await Deno.writeTextFile(explicit, "#!/bin/sh\necho kubectl\n", { mode: 0o755 });
  await withEnv({ CNCFDEMO_CACHE_DIR: cache, CNCFDEMO_KUBECTL_BINARY: explicit }, async () => {
    // an empty cache and noBuild: a clear error naming what is missing
    await assert.rejects(
      resolveBinaries(["kubectl", "etcd"], { noBuild: true }),
      (e) =>
        e instanceof CncfdemoError &&
        /^Not in the cache: etcd; run "deno task binaries"$/.test(e.message),
    );
    // a cached etcd is found
    const etcdDir = componentCacheDir("etcd");
    await Deno.mkdir(etcdDir, { recursive: true });
    await Deno.writeTextFile(`${etcdDir}/etcd`, "#!/bin/sh\n", { mode: 0o755 });
    const r = await resolveBinaries(["kubectl", "etcd"], { noBuild: true });
    assert.equal(r.paths.kubectl, explicit);
    assert.equal(r.sources.kubectl, "explicit");
    assert.equal(r.paths.etcd, `${etcdDir}/etcd`);
    assert.equal(r.sources.etcd, "cache");
    assert.ok(etcdDir.startsWith(`${cache}/bin/etcd-v3.6.`), etcdDir);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resolveBinaries: an explicit path that is not an executable file is refused", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/kubectl`, "not executable", { mode: 0o644 });
  await withEnv(
    { CNCFDEMO_CACHE_DIR: `${dir}/cache`, CNCFDEMO_KUBECTL_BINARY: undefined },
    async () => {
      await assert.rejects(
        resolveBinaries(["kubectl"], { binDir: dir }),
        (e) =>
          e instanceof CncfdemoError &&
          e.message ===
            `Cannot use kubectl from --bin-dir: ${dir}/kubectl is not an executable file`,
      );
    },
  );
  await withEnv(
    { CNCFDEMO_CACHE_DIR: `${dir}/cache`, CNCFDEMO_ETCD_BINARY: `${dir}/missing` },
    async () => {
      await assert.rejects(resolveBinaries(["etcd"]), /Cannot use etcd from CNCFDEMO_ETCD_BINARY/);
    },
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resolveBinaries: with no Go and an empty cache, says what to install", async () => {
  const dir = await Deno.makeTempDir();
  await withEnv({
    CNCFDEMO_CACHE_DIR: `${dir}/cache`,
    PATH: `${dir}/empty-path`,
    CNCFDEMO_KWOK_BINARY: undefined,
  }, async () => {
    await assert.rejects(
      resolveBinaries(["kwok"]),
      (e) =>
        e instanceof CncfdemoError &&
        /no Go toolchain is on PATH; install Go 1\.26 or newer/.test(e.message),
    );
  });
  // nothing half-built was left in the cache
  const left = [...Deno.readDirSync(`${dir}/cache/bin`)].map((e) => e.name).filter((n) =>
    !n.endsWith(".lock")
  );
  assert.deepEqual(left, []);
  await Deno.remove(dir, { recursive: true });
});

/** A cache and a PATH whose `go` is the test double in testdata/binaries/fake-go.sh. */
async function fakeGoEnv(dir: string, extra: Record<string, string> = {}) {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.copyFile(new URL("../testdata/binaries/fake-go.sh", import.meta.url), `${bin}/go`);
  await Deno.chmod(`${bin}/go`, 0o755);
  await Deno.writeTextFile(`${dir}/kwok.go.mod`, "module sigs.k8s.io/kwok\n\ngo 1.26.0\n");
  return {
    CNCFDEMO_CACHE_DIR: `${dir}/cache`,
    CNCFDEMO_KWOK_BINARY: undefined,
    CNCFDEMO_KWOKCTL_BINARY: undefined,
    PATH: `${bin}:/usr/bin:/bin`,
    FAKE_GO_LOG: `${dir}/go.log`,
    FAKE_GO_MOD: `${dir}/kwok.go.mod`,
    ...extra,
  };
}

const builds = async (dir: string) =>
  (await Deno.readTextFile(`${dir}/go.log`).catch(() => "")).split("\n").filter((l) =>
    l.startsWith("build ")
  ).length;

Deno.test("resolveBinaries: a build that fails half-way leaves nothing in the cache", async () => {
  const dir = await Deno.makeTempDir();
  await withEnv(await fakeGoEnv(dir, { FAKE_GO_FAIL: "1" }), async () => {
    await assert.rejects(
      resolveBinaries(["kwok"]),
      (e) =>
        e instanceof CncfdemoError &&
        /^go build failed: .*out of memory \(test double\)/.test(e.message),
    );
    const left = [...Deno.readDirSync(`${dir}/cache/bin`)].map((e) => e.name).filter((n) =>
      !n.endsWith(".lock")
    );
    assert.deepEqual(left, [], "no component directory and no temporary directory");
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resolveBinaries: built once into the cache, then found there; concurrent callers share one build", async () => {
  const dir = await Deno.makeTempDir();
  await withEnv(await fakeGoEnv(dir), async () => {
    const [a, b] = await Promise.all([
      resolveBinaries(["kwok", "kwokctl"]),
      resolveBinaries(["kwokctl"]),
    ]);
    assert.equal(await builds(dir), 1);
    assert.equal(a.paths.kwokctl, b.paths.kwokctl);
    assert.equal(a.paths.kwok, `${componentCacheDir("kwok")}/kwok`);
    assert.ok((await Deno.stat(a.paths.kwok)).mode! & 0o111);
    const again = await resolveBinaries(["kwok", "kwokctl"]);
    assert.deepEqual(again.sources, { kwok: "cache", kwokctl: "cache" });
    assert.equal(await builds(dir), 1);
    // the wrapper module pins the version and stamps it
    const log = await Deno.readTextFile(`${dir}/go.log`);
    assert.match(log, /^mod download -json sigs\.k8s\.io\/kwok@v0\.8\.0$/m);
    assert.match(log, /-X sigs\.k8s\.io\/kwok\/pkg\/consts\.Version=0\.8\.0/);
    const gomod = await Deno.readTextFile(`${dir}/cache/build/kwok-v0.8.0/go.mod`);
    assert.match(gomod, /^require sigs\.k8s\.io\/kwok v0\.8\.0$/m);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("moduleReplaces: a module's own replace lines to published versions are kept, local paths dropped", () => {
  const gomod = `module github.com/prometheus/prometheus

go 1.23.0

replace github.com/fsnotify/fsnotify v1.8.0 => github.com/fsnotify/fsnotify v1.7.0

replace (
\tgithub.com/a/b => github.com/a/b v1.2.3
\tgithub.com/c/d => ./local/d
)
`;
  assert.deepEqual(moduleReplaces(gomod), [
    "replace github.com/fsnotify/fsnotify v1.8.0 => github.com/fsnotify/fsnotify v1.7.0",
    "replace github.com/a/b => github.com/a/b v1.2.3",
  ]);
});

Deno.test("the load generator's cache version is the version its source declares (bump both)", async () => {
  const { VERSIONS } = await import("./binaries.ts");
  const src = await Deno.readTextFile(new URL("./series/loadgen/main.go", import.meta.url));
  assert.equal(`v${/const version = "([^"]+)"/.exec(src)?.[1]}`, VERSIONS.loadgen);
});
