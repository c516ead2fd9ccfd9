import assert from "node:assert/strict";
import { parse } from "yaml";
import { UsageError } from "../errors.ts";
import {
  assertKubeconfigWritable,
  kubeContexts,
  mergeKubeEntry,
  removeKubeEntry,
} from "./kubeconfig.ts";

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: prod
  user: {token: secret}
contexts:
- name: prod
  context: {cluster: prod, user: prod, namespace: web}
current-context: prod
preferences: {colors: true}
`;

const entry = {
  name: "sim-a",
  server: "https://127.0.0.1:32764",
  certificateAuthorityData: "Q0E=",
  clientCertificateData: "Q0VSVA==",
  clientKeyData: "S0VZ",
};

Deno.test("kubeconfig: merge adds entries, makes the context current and keeps the rest", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, OTHER);
  await mergeKubeEntry(path, entry);
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(path)) as any;
  assert.equal(doc["current-context"], "sim-a");
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ["prod", "sim-a"]);
  assert.equal(doc.contexts[0].context.namespace, "web");
  assert.equal(doc.users[0].user.token, "secret");
  assert.equal(doc.preferences.colors, true);
  assert.equal(doc.clusters[1].cluster["certificate-authority-data"], "Q0E=");
  assert.equal(doc.users[1].user["client-key-data"], "S0VZ");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);

  // merging again replaces, not duplicates
  await mergeKubeEntry(path, { ...entry, server: "https://127.0.0.1:1111" });
  // deno-lint-ignore no-explicit-any
  const again = parse(await Deno.readTextFile(path)) as any;
  assert.equal(again.clusters.filter((c: { name: string }) => c.name === "sim-a").length, 1);
  assert.equal(again.clusters[1].cluster.server, "https://127.0.0.1:1111");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: merge creates a missing file and its directory", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/.kube/config`;
  await mergeKubeEntry(path, entry);
  assert.deepEqual(await kubeContexts(path), ["sim-a"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: remove takes out only the named entries and is safe to repeat", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, OTHER);
  await mergeKubeEntry(path, entry);
  assert.equal(await removeKubeEntry(path, "sim-a"), true);
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(path)) as any;
  assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), ["prod"]);
  assert.deepEqual(doc.users.map((c: { name: string }) => c.name), ["prod"]);
  assert.equal(doc["current-context"], "");
  assert.equal(await removeKubeEntry(path, "sim-a"), false);
  assert.equal(await removeKubeEntry(`${dir}/missing`, "sim-a"), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: unusable files are refused before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    assertKubeconfigWritable(dir),
    (e) => e instanceof UsageError && /is a directory/.test(e.message),
  );
  await Deno.writeTextFile(`${dir}/bad`, "clusters: [unclosed");
  await assert.rejects(
    assertKubeconfigWritable(`${dir}/bad`),
    (e) => e instanceof UsageError && /^Cannot parse kubeconfig/.test(e.message),
  );
  await Deno.writeTextFile(`${dir}/list`, "- a\n- b\n");
  await assert.rejects(mergeKubeEntry(`${dir}/list`, entry), /not a kubeconfig mapping/);
  assert.equal(await Deno.readTextFile(`${dir}/list`), "- a\n- b\n");
  await assertKubeconfigWritable(`${dir}/does-not-exist`);
  await Deno.remove(dir, { recursive: true });
});
