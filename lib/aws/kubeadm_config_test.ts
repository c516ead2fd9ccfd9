import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { parseAllDocuments } from "yaml";
import { resolveBinaries } from "../binaries.ts";
import { run } from "../run_program.ts";
import { initConfiguration, joinConfiguration, type KubeadmInput } from "./kubeadm_config.ts";
import { makeClusterSecrets } from "./pki.ts";

async function input(): Promise<
  { input: KubeadmInput; secrets: Awaited<ReturnType<typeof makeClusterSecrets>> }
> {
  const secrets = await makeClusterSecrets();
  return {
    secrets,
    input: {
      clusterName: "demo",
      apiHost: "masters.demo.k8s",
      publicIp: "198.51.100.7",
      token: secrets.token,
      caCertHash: secrets.caCertHash,
    },
  };
}

Deno.test("kubeadm config validate accepts the generated init and join configurations", async () => {
  const { paths } = await resolveBinaries(["kubeadm"]);
  const { input: i } = await input();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-kubeadm-" });
  try {
    const files: [string, string][] = [
      ["init.yaml", initConfiguration(i)],
      ["join.yaml", joinConfiguration(i)],
    ];
    for (const [file, text] of files) {
      await Deno.writeTextFile(`${dir}/${file}`, text);
      const r = await run(paths.kubeadm, ["config", "validate", "--config", `${dir}/${file}`]);
      assert.match(r.stdout + r.stderr, /ok/, file);
    }
    // And the validator does reject a broken file (so the check above can fail).
    await Deno.writeTextFile(`${dir}/bad.yaml`, initConfiguration(i).replace("v1.36.3", "banana"));
    const bad = await run(paths.kubeadm, ["config", "validate", "--config", `${dir}/bad.yaml`], {
      allowFailure: true,
    });
    assert.notEqual(bad.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the join configuration pins the CA hash and never skips CA verification", async () => {
  const { input: i, secrets } = await input();
  const docs = parseAllDocuments(joinConfiguration(i)).map((d) => d.toJS());
  assert.equal(docs.length, 1);
  const bt = docs[0].discovery.bootstrapToken;
  assert.deepEqual(bt.caCertHashes, [secrets.caCertHash]);
  assert.equal(bt.token, secrets.token);
  assert.equal(bt.apiServerEndpoint, "masters.demo.k8s:6443");
  assert.equal(bt.unsafeSkipCAVerification, undefined);
  assert.ok(!joinConfiguration(i).includes("unsafeSkipCAVerification"));
});

Deno.test("kubeadm signs the API server certificate with the CA made by bootstrap:aws", async () => {
  const { paths } = await resolveBinaries(["kubeadm"]);
  const { input: i, secrets } = await input();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-kubeadm-" });
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, secrets.caCert);
    await Deno.writeTextFile(`${dir}/ca.key`, secrets.caKey);
    const config = initConfiguration(i).replace(
      "kind: ClusterConfiguration\n",
      `kind: ClusterConfiguration\ncertificatesDir: ${dir}\n`,
    );
    await Deno.writeTextFile(`${dir}/init.yaml`, config);
    await run(paths.kubeadm, [
      "init",
      "phase",
      "certs",
      "apiserver",
      "--config",
      `${dir}/init.yaml`,
    ]);
    const ca = new X509Certificate(secrets.caCert);
    const server = new X509Certificate(await Deno.readTextFile(`${dir}/apiserver.crt`));
    assert.ok(server.verify(ca.publicKey), "apiserver.crt is signed by our CA");
    assert.match(server.subjectAltName ?? "", /DNS:masters\.demo\.k8s/);
    assert.match(server.subjectAltName ?? "", /IP Address:198\.51\.100\.7/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kubelets ask for serving certificates from the cluster CA (serverTLSBootstrap), for every node", async () => {
  const { input: i } = await input();
  const docs = parseAllDocuments(initConfiguration(i)).map((d) => d.toJS());
  const kubelet = docs.find((d) => d.kind === "KubeletConfiguration");
  assert.equal(kubelet.serverTLSBootstrap, true);
  assert.equal(kubelet.rotateCertificates, true);
  // joining nodes take the cluster's kubelet-config (uploaded by kubeadm init): no override here
  assert.ok(!joinConfiguration(i).includes("KubeletConfiguration"));
  // and the real kubeadm accepts it (its own component-config validation)
  const { paths } = await resolveBinaries(["kubeadm"]);
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-kubeadm-" });
  try {
    await Deno.writeTextFile(`${dir}/init.yaml`, initConfiguration(i));
    const r = await run(paths.kubeadm, ["config", "validate", "--config", `${dir}/init.yaml`]);
    assert.match(r.stdout + r.stderr, /ok/);
    // a wrong type there is refused, so the check above means something
    await Deno.writeTextFile(
      `${dir}/bad.yaml`,
      initConfiguration(i).replace("serverTLSBootstrap: true", "serverTLSBootstrap: sometimes"),
    );
    const bad = await run(paths.kubeadm, ["config", "validate", "--config", `${dir}/bad.yaml`], {
      allowFailure: true,
    });
    assert.notEqual(bad.code, 0, bad.stdout + bad.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
