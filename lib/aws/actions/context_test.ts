import assert from "node:assert/strict";
import { awsClients } from "../clients.ts";
import { deadline } from "../../wait.ts";
import { actionsToRun } from "../bootstrap.ts";
import { AwsContext, MissingFact } from "./context.ts";

const options = {
  name: "demo",
  clients: awsClients({ region: "eu-west-1", endpoint: "http://127.0.0.1:9" }),
  masters: 1,
  minions: 1,
  instanceType: "t3.medium",
  apiCidr: "203.0.113.7/32",
  wait: true,
  deadline: deadline(1_000),
  kubeconfig: "/nonexistent/kubeconfig",
};

Deno.test("a fact read before the action that finds it is an internal error naming it, not undefined", () => {
  const ctx = new AwsContext(options);
  assert.throws(
    () => ctx.need("vpcId"),
    (err: Error) => err instanceof MissingFact && /"vpcId"/.test(err.message),
  );
  ctx.facts.vpcId = "vpc-1";
  assert.equal(ctx.need("vpcId"), "vpc-1");
  assert.equal(ctx.names.region, "eu-west-1");
});

Deno.test("an action reading a fact no earlier action found fails naming it", async () => {
  const list = actionsToRun(options);
  const subnets = list.flatMap((a) => "parallel" in a ? a.parallel : [a]).find((a) =>
    a.name === "Subnets"
  )!;
  await assert.rejects(
    subnets.run(new AwsContext(options), { progress: () => {}, note: () => {} }),
    MissingFact,
  );
});

Deno.test("the waits come only with --wait, after the Auto Scaling groups", () => {
  const names = (wait: boolean) =>
    actionsToRun({ wait }).map((a) => typeof a.name === "string" ? a.name : "(named by context)");
  assert.equal(names(false).at(-1), "Auto Scaling groups");
  assert.equal(names(true).length, names(false).length + 3);
});
