import assert from "node:assert/strict";
import { parse } from "yaml";
import { clusterNames } from "./names.ts";
import { sysconfig, userData } from "./user_data.ts";

const input = {
  names: clusterNames("demo", "eu-west-1"),
  region: "eu-west-1",
  allocationId: "eipalloc-0123",
};

Deno.test("user data writes the sysconfig file of the role, as cloud-config", () => {
  for (const role of ["masters", "minions"] as const) {
    const doc = parse(userData(role, input)) as {
      write_files: { path: string; content: string }[];
    };
    assert.ok(userData(role, input).startsWith("#cloud-config\n"));
    assert.equal(doc.write_files.length, 1);
    assert.equal(doc.write_files[0]!.path, `/etc/sysconfig/kubernetes-${role}`);
    const lines = doc.write_files[0]!.content.trim().split("\n");
    assert.ok(lines.includes("CLUSTER_NAME=demo"));
    assert.ok(lines.includes("API_ENDPOINT=masters.demo.k8s:6443"));
  }
  assert.equal(sysconfig("masters", input).API_ALLOCATION_ID, "eipalloc-0123");
  assert.equal(sysconfig("minions", input).API_ALLOCATION_ID, undefined);
  assert.equal(sysconfig("minions", input).CA_KEY_PARAMETER, undefined);
});

Deno.test("user data holds no secret: only parameter names", () => {
  const text = userData("masters", input) + userData("minions", input);
  assert.doesNotMatch(text, /BEGIN|token:|[a-z0-9]{6}\.[a-z0-9]{16}/);
  assert.match(text, /KUBEADM_JOIN_PARAMETER=\/cncfdemo\/demo\/kubeadm-join\.yaml/);
});
