import assert from "node:assert/strict";
import { gunzipSync } from "fflate";
import { hasProgram, run } from "../run_program.ts";
import { NODE_RECIPE_DIR, nodeRecipe, USER_DATA_LIMIT } from "./node_recipe.ts";

Deno.test("the recipe script writes images/node/rootfs byte for byte, within the user-data limit", async () => {
  const r = await nodeRecipe();
  assert.ok(r.userData.length < USER_DATA_LIMIT);
  assert.equal(new TextDecoder().decode(gunzipSync(r.userData)), r.script);
  const root = await Deno.makeTempDir({ prefix: "cncfdemo-recipe-" });
  try {
    await run("bash", ["-c", r.script], { env: { CNCFDEMO_ROOT: root } });
    for (const f of r.files) {
      assert.equal(
        await Deno.readTextFile(`${root}${f}`),
        await Deno.readTextFile(`${NODE_RECIPE_DIR}/rootfs${f}`),
        f,
      );
      const executable = ((await Deno.stat(`${root}${f}`)).mode ?? 0) & 0o111;
      assert.equal(executable !== 0, f.endsWith(".sh"), `${f} mode`);
    }
    assert.equal(
      await Deno.readTextFile(`${root}/var/lib/cncfdemo-bake/provision.sh`),
      await Deno.readTextFile(`${NODE_RECIPE_DIR}/provision.sh`),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the node units are gated on the sysconfig file of their role", async () => {
  const unit = (n: string) =>
    Deno.readTextFile(`${NODE_RECIPE_DIR}/rootfs/etc/systemd/system/${n}`);
  const master = await unit("cncfdemo-master.service");
  assert.match(master, /^ConditionPathExists=\/etc\/sysconfig\/kubernetes-masters$/m);
  assert.match(master, /^EnvironmentFile=\/etc\/sysconfig\/kubernetes-masters$/m);
  const minion = await unit("cncfdemo-minion.service");
  assert.match(minion, /^ConditionPathExists=\/etc\/sysconfig\/kubernetes-minions$/m);
  assert.match(minion, /^ConditionPathExists=!\/etc\/sysconfig\/kubernetes-masters$/m);
  const join = await Deno.readTextFile(
    `${NODE_RECIPE_DIR}/rootfs/usr/local/lib/cncfdemo/minion-up.sh`,
  );
  assert.match(join, /kubeadm join --config/);
  assert.doesNotMatch(join, /unsafe-skip-ca-verification|unsafeSkipCAVerification/);
  const provision = await Deno.readTextFile(`${NODE_RECIPE_DIR}/provision.sh`);
  assert.match(provision, /KUBERNETES_VERSION="\$\{KUBERNETES_VERSION:-v1\.36\.3\}"/);
  assert.match(provision, /sha256sum --check/);
});

Deno.test({
  name: "the node scripts pass shellcheck",
  ignore: !(await hasProgram("shellcheck")),
  async fn() {
    const lib = `${NODE_RECIPE_DIR}/rootfs/usr/local/lib/cncfdemo`;
    const scripts = [`${NODE_RECIPE_DIR}/provision.sh`];
    for await (const e of Deno.readDir(lib)) scripts.push(`${lib}/${e.name}`);
    await run("shellcheck", ["-x", "-P", "SCRIPTDIR", ...scripts]);
  },
});
