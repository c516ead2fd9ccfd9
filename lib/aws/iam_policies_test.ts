import assert from "node:assert/strict";
import {
  actionsOf,
  ebsCsiStatements,
  lambdaPolicy,
  nodePolicy,
  type PolicyContext,
  trustPolicy,
} from "./iam_policies.ts";
import { clusterNames } from "./names.ts";

const ctx: PolicyContext = {
  names: clusterNames("demo", "eu-west-1"),
  account: "123456789012",
  region: "eu-west-1",
  zoneId: "Z0123456789ABC",
};

function wildcardActions(actions: string[]): string[] {
  return actions.filter((a) => a === "*" || a.endsWith(":*") || a.includes("*"));
}

Deno.test("no wildcard action for the Lambda, the minions or the masters", () => {
  for (
    const [who, doc] of [
      ["lambda", lambdaPolicy(ctx)],
      ["minions", nodePolicy("minions", ctx)],
      ["masters", nodePolicy("masters", ctx)],
    ] as const
  ) {
    const actions = actionsOf(doc);
    assert.ok(actions.length > 0, who);
    assert.deepEqual(wildcardActions(actions), [], who);
    assert.equal(doc.Version, "2012-10-17");
    for (const s of doc.Statement) assert.equal(s.Effect, "Allow");
  }
});

Deno.test("the Lambda may change records of the cluster's zone only", () => {
  const doc = lambdaPolicy(ctx);
  const change = doc.Statement.find((s) => s.Action.includes("route53:ChangeResourceRecordSets"))!;
  assert.equal(change.Resource, "arn:aws:route53:::hostedzone/Z0123456789ABC");
  // Resource "*" only where AWS supports no resource-level permission, and only for reads.
  for (const s of doc.Statement.filter((x) => x.Resource === "*")) {
    for (const a of s.Action) assert.match(a, /:(Describe|List|Get)/, a);
  }
});

Deno.test("minions read their join configuration and nothing else of the cluster's secrets", () => {
  const doc = nodePolicy("minions", ctx);
  const ssm = doc.Statement.filter((s) => s.Action.some((a) => a.startsWith("ssm:")));
  assert.deepEqual(ssm.flatMap((s) => s.Action), ["ssm:GetParameter"]);
  assert.deepEqual(ssm.map((s) => s.Resource), [
    "arn:aws:ssm:eu-west-1:123456789012:parameter/cncfdemo/demo/kubeadm-join.yaml",
  ]);
  assert.ok(!JSON.stringify(doc).includes("ca.key"));
  for (const s of doc.Statement.filter((x) => x.Resource === "*")) {
    for (const a of s.Action) assert.match(a, /:(Describe|List|Get|BatchGet|BatchCheck)/, a);
  }
});

Deno.test("masters read the CA and publish only the admin kubeconfig; the address only when tagged", () => {
  const doc = nodePolicy("masters", ctx);
  const put = doc.Statement.find((s) => s.Action.includes("ssm:PutParameter"))!;
  assert.equal(
    put.Resource,
    "arn:aws:ssm:eu-west-1:123456789012:parameter/cncfdemo/demo/admin.conf",
  );
  const assoc = doc.Statement.find((s) => s.Action.includes("ec2:AssociateAddress"))!;
  assert.deepEqual(assoc.Condition, {
    StringEquals: { "aws:ResourceTag/KubernetesCluster": "demo" },
  });
});

Deno.test("trust policies name one service each; partitions follow the region", () => {
  assert.deepEqual(JSON.parse(trustPolicy("lambda.amazonaws.com")).Statement[0].Principal, {
    Service: "lambda.amazonaws.com",
  });
  const cn = lambdaPolicy({ ...ctx, region: "cn-north-1" });
  assert.match(JSON.stringify(cn), /arn:aws-cn:route53:::hostedzone/);
});

Deno.test("the EBS CSI driver's permissions: masters only, named actions, writes scoped to the cluster's volumes", () => {
  const masters = nodePolicy("masters", ctx);
  const ebs = ebsCsiStatements(ctx);
  assert.deepEqual(wildcardActions(actionsOf({ Version: "2012-10-17", Statement: ebs })), []);
  for (const s of ebs) assert.ok(masters.Statement.some((m) => m.Sid === s.Sid), s.Sid);
  // minions neither create, attach nor delete volumes
  const minionActions = actionsOf(nodePolicy("minions", ctx));
  for (
    const a of ["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume"]
  ) {
    assert.ok(!minionActions.includes(a), a);
  }
  // every write is conditioned on the cluster's tag, or on tagging at creation
  const writes = ebs.filter((s) => s.Action.some((a) => !/:Describe/.test(a)));
  assert.deepEqual(writes.map((s) => s.Action).flat().sort(), [
    "ec2:AttachVolume",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:DeleteVolume",
    "ec2:DetachVolume",
  ]);
  for (const s of writes) {
    assert.notEqual(s.Resource, "*", s.Sid);
    assert.ok(s.Condition, `${s.Sid} has a condition`);
    for (const r of [s.Resource].flat()) {
      assert.match(r, /^arn:aws:ec2:eu-west-1:123456789012:(volume|instance)\/\*$/, s.Sid);
    }
  }
  const create = ebs.find((s) => s.Action.includes("ec2:CreateVolume"))!;
  assert.deepEqual(create.Condition, {
    StringEquals: { "aws:RequestTag/KubernetesCluster": "demo" },
  });
  const tag = ebs.find((s) => s.Action.includes("ec2:CreateTags"))!;
  assert.deepEqual(tag.Condition, { StringEquals: { "ec2:CreateAction": "CreateVolume" } });
  for (const a of ["ec2:AttachVolume", "ec2:DeleteVolume"]) {
    assert.deepEqual(ebs.find((s) => s.Action.includes(a))!.Condition, {
      StringEquals: { "aws:ResourceTag/KubernetesCluster": "demo" },
    });
  }
  // no snapshots, no resizing: nothing the demo does not use
  for (const a of ["ec2:CreateSnapshot", "ec2:DeleteSnapshot", "ec2:ModifyVolume"]) {
    assert.ok(!actionsOf(masters).includes(a), a);
  }
  // Resource "*" only for reads
  for (const s of ebs.filter((x) => x.Resource === "*")) {
    for (const a of s.Action) assert.match(a, /:Describe/, a);
  }
});
