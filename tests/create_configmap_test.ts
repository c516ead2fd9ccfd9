/**
 * `deno task create configmap` has kubectl's semantics: compared with the real kubectl (the pinned
 * build) on the same inputs, and applied to a real API server.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { resolveBinaries } from "../lib/binaries.ts";
import { run } from "../lib/run_program.ts";
import { sandbox } from "./support/env.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

async function fixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-cm-" });
  await Deno.mkdir(`${dir}/conf/nested`, { recursive: true });
  await Deno.writeTextFile(`${dir}/conf/api.js`, "module.exports = { port: 3001 };\n");
  await Deno.writeTextFile(`${dir}/conf/frontend.js`, "module.exports = { port: 6001 };\n");
  await Deno.writeFile(`${dir}/conf/logo.bin`, new Uint8Array([0, 255, 1, 254, 0x80]));
  await Deno.writeTextFile(`${dir}/conf/nested/deep.txt`, "deep\n");
  await Deno.writeTextFile(`${dir}/single.conf`, "a=1\n");
  return dir;
}

Deno.test("create configmap --dry-run=client -o yaml gives what kubectl gives", async () => {
  const dir = await fixture();
  const sb = await sandbox();
  const kubectl = (await resolveBinaries(["kubectl"], { noBuild: true })).paths.kubectl;
  try {
    for (
      const args of [
        [`--from-file=${dir}/conf`],
        [`--from-file=${dir}/single.conf`, `--from-file=renamed.js=${dir}/conf/api.js`],
      ]
    ) {
      const ours = await sb.task("create.ts", [
        "configmap",
        "example",
        ...args,
        "--dry-run=client",
        "-o",
        "yaml",
      ]);
      assert.equal(ours.code, 0, ours.stderr);
      const theirs = await run(kubectl, [
        "create",
        "configmap",
        "example",
        ...args,
        "--dry-run=client",
        "-o",
        "yaml",
      ]);
      // deno-lint-ignore no-explicit-any
      const a = parse(ours.stdout) as any, b = parse(theirs.stdout) as any;
      assert.deepEqual(a.data, b.data, args.join(" "));
      assert.deepEqual(a.binaryData, b.binaryData, args.join(" "));
      assert.equal(a.metadata.name, b.metadata.name);
    }
    // --recursive (our extension) descends into subdirectories, keys are still base names
    const rec = await sb.task("create.ts", [
      "configmap",
      "x",
      `--from-file=${dir}/conf`,
      "--recursive",
      "--dry-run=client",
    ]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(parse(rec.stdout).data["deep.txt"], "deep\n");
  } finally {
    await sb.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("create configmap refuses bad input with one line", async () => {
  const dir = await fixture();
  const sb = await sandbox();
  try {
    const cases: [string[], RegExp][] = [
      [
        ["configmap", "x", `--from-file=${dir}/missing`],
        /^error: Cannot read --from-file .*missing: no such file or directory$/,
      ],
      [["configmap", "x"], /^error: Nothing to put in the ConfigMap: pass --from-file=PATH$/],
      [
        ["secret", "x", `--from-file=${dir}/single.conf`],
        /^error: Cannot create "secret": only "configmap" is supported/,
      ],
      [
        ["configmap", "Bad_Name", `--from-file=${dir}/single.conf`],
        /^error: Cannot use "Bad_Name" as a ConfigMap name/,
      ],
      [
        ["configmap", "x", `--from-file=bad key=${dir}/single.conf`],
        /^error: Cannot use "bad key" as a ConfigMap key/,
      ],
      [
        ["configmap", "x", `--from-file=${dir}/conf/api.js`, `--from-file=${dir}/conf/api.js`],
        /^error: ConfigMap key "api\.js" comes from both/,
      ],
      [["configmap"], /^error: Missing argument for deno task create/],
    ];
    for (const [args, expected] of cases) {
      const r = await sb.task("create.ts", [...args, "--dry-run=client"]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), expected);
    }
  } finally {
    await sb.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("create configmap applies to the cluster; a re-run is unchanged", async () => {
  const dir = await fixture();
  try {
    await withSimCluster(["--nodes", "1"], async ({ sb, kube }) => {
      const args = ["configmap", "countly", `--from-file=${dir}/conf`, "-n", "default"];
      const first = await sb.task("create.ts", args);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), "configmap/countly created");
      const cm = await kube.core.readNamespacedConfigMap({ name: "countly", namespace: "default" });
      assert.deepEqual(Object.keys(cm.data ?? {}).sort(), ["api.js", "frontend.js"]);
      assert.deepEqual(Object.keys(cm.binaryData ?? {}), ["logo.bin"]);
      const again = await sb.task("create.ts", args);
      assert.equal(again.stdout.trim(), "configmap/countly unchanged");
      await Deno.writeTextFile(`${dir}/conf/api.js`, "module.exports = { port: 3002 };\n");
      const changed = await sb.task("create.ts", args);
      assert.equal(changed.stdout.trim(), "configmap/countly configured");
      // a server dry run says what would happen, and changes nothing
      const same = await sb.task("create.ts", [...args, "--dry-run=server"]);
      assert.equal(same.stdout.trim(), "configmap/countly unchanged (server dry run)", same.stderr);
      await Deno.writeTextFile(`${dir}/conf/api.js`, "module.exports = { port: 3003 };\n");
      const dry = await sb.task("create.ts", [...args, "--dry-run=server"]);
      assert.equal(dry.stdout.trim(), "configmap/countly configured (server dry run)", dry.stderr);
      const live = await kube.core.readNamespacedConfigMap({
        name: "countly",
        namespace: "default",
      });
      assert.equal(live.data?.["api.js"], "module.exports = { port: 3002 };\n");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
