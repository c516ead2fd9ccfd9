import assert from "node:assert/strict";
import {
  actionsOf,
  lambdaPolicy,
  nodePolicy,
  type PolicyContext,
  trustPolicy,
} from "./iam_policies.ts";
import { clusterNames } from "./names.ts";

const ctx: PolicyContext = {
  names: clusterNames("demo"),
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
