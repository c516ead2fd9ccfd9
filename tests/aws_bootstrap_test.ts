/**
 * bootstrap:aws and teardown --provider aws, run as subprocesses against a real moto_server on
 * 127.0.0.1: the inventory per resource type, a second run that changes nothing, a teardown that
 * leaves zero of every type, and a teardown that fails, naming the leftover, when a resource
 * cannot be deleted.
 */
import assert from "node:assert/strict";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  DeleteSubnetCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand as CreateClassicLb,
  DescribeLoadBalancersCommand as DescribeClassicLbs,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeLoadBalancersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { zipSync } from "fflate";
import { countByType, inventory } from "../lib/aws/inventory.ts";
import { census, empty, expectedAfterBootstrap } from "./support/aws_census.ts";
import { moto } from "./support/moto.ts";
import { sandbox } from "./support/env.ts";

const NAME = "demo";

function stepDetails(stderr: string): string[] {
  // The timeline's lines: "  ✓ <name>  <time>  <detail>"
  const start = stderr.indexOf("Timeline");
  return stderr.slice(start).split("\n").slice(1).filter((l) => /^\s+[✓✗]/.test(l));
}

/** `Service.Operation N` lines printed under --verbose. */
function operations(stderr: string): Map<string, number> {
  const ops = new Map<string, number>();
  for (const m of stderr.matchAll(/^\s+([A-Za-z0-9]+\.[A-Za-z0-9]+) (\d+)$/gm)) {
    ops.set(m[1]!, Number(m[2]));
  }
  return ops;
}

Deno.test("bootstrap:aws --no-wait creates the inventory, a second run creates nothing, teardown leaves nothing", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const image = await m.image();
    const args = [
      "--name",
      NAME,
      "--api-cidr",
      "198.51.100.7/32",
      "--image-id",
      image,
      "--no-wait",
    ];
    const first = await sb.task("bootstrap_aws.ts", [...args, "--verbose"]);
    assert.equal(first.code, 0, first.stderr);
    const aws = m.clients();
    assert.deepEqual(await census(aws), expectedAfterBootstrap(3));
    const inv = await inventory(aws, NAME);
    const byType = countByType(inv);
    assert.equal(byType.vpc, 1);
    assert.equal(byType["autoscaling-group"], 2);
    assert.equal(byType["ssm-parameter"], 5);
    assert.equal(byType.instance, 4);
    const firstOps = operations(first.stderr);
    assert.equal(firstOps.get("EC2.CreateVpc"), 1);
    assert.equal(firstOps.get("AutoScaling.CreateAutoScalingGroup"), 2);

    const ids = inv.map((r) => `${r.type}/${r.id}`).sort();
    const second = await sb.task("bootstrap_aws.ts", [...args, "--verbose"]);
    assert.equal(second.code, 0, second.stderr);
    const writes = [...operations(second.stderr).keys()].filter((op) =>
      /\.(Create|Put|Allocate|Authorize|Revoke|Attach|Associate|Modify|Update|Add|Replace|Delete|Change|Run|Terminate)/
        .test(op)
    );
    assert.deepEqual(writes, [], `the second run wrote: ${writes.join(", ")}`);
    for (const line of stepDetails(second.stderr)) {
      assert.doesNotMatch(line, /created|updated|rotated|attached/, line);
    }
    assert.deepEqual(await census(aws), expectedAfterBootstrap(3));
    assert.deepEqual((await inventory(aws, NAME)).map((r) => `${r.type}/${r.id}`).sort(), ids);

    const down = await sb.task("teardown.ts", ["--provider", "aws", "--name", NAME]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /nothing left/);
    assert.deepEqual(await census(aws), empty());
    assert.deepEqual(await inventory(aws, NAME), []);

    const again = await sb.task("teardown.ts", ["--provider", "aws", "--name", NAME]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 resources in us-east-1: nothing/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("bootstrap:aws converges a changed --api-cidr, --ssh-cidr and --minions", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const image = await m.image();
    const base = ["--name", NAME, "--image-id", image, "--no-wait"];
    assert.equal(
      (await sb.task("bootstrap_aws.ts", [...base, "--api-cidr", "198.51.100.7/32"])).code,
      0,
    );
    // Someone edited the Lambda by hand: code and configuration are put back.
    const aws0 = m.clients();
    await aws0.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: `cncfdemo-${NAME}-dns`,
        ZipFile: zipSync({
          "index.mjs": new TextEncoder().encode("export const handler = () => 1;"),
        }),
      }),
    );
    await aws0.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: `cncfdemo-${NAME}-dns`,
        Environment: { Variables: { ZONE_ID: "nope" } },
      }),
    );
    const changed = await sb.task("bootstrap_aws.ts", [
      ...base,
      "--api-cidr",
      "203.0.113.0/24",
      "--ssh-cidr",
      "203.0.113.9",
      "--minions",
      "1",
    ]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stderr, /Security groups .*updated/);
    assert.match(changed.stderr, /Auto Scaling groups .*minions 1: updated/);
    assert.match(
      changed.stderr,
      /DNS Lambda and EventBridge rule .*updated the code, updated the configuration/,
    );
    const fn = await aws0.lambda.send(
      new GetFunctionCommand({ FunctionName: `cncfdemo-${NAME}-dns` }),
    );
    assert.equal(fn.Configuration?.Environment?.Variables?.CLUSTER, NAME);
    const aws = m.clients();
    assert.deepEqual(await census(aws), expectedAfterBootstrap(1));
    const down = await sb.task("teardown.ts", ["--provider", "aws", "--name", NAME]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await census(aws), empty());
  } finally {
    await sb.cleanup();
  }
});

Deno.test("teardown exits non-zero naming a resource it cannot delete, and completes once it can", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const image = await m.image();
    const up = await sb.task("bootstrap_aws.ts", [
      "--name",
      NAME,
      "--api-cidr",
      "198.51.100.7/32",
      "--image-id",
      image,
      "--no-wait",
    ]);
    assert.equal(up.code, 0, up.stderr);
    const aws = m.clients();
    // Someone added an untagged subnet to the cluster's VPC by hand: the VPC cannot be deleted.
    const vpcs = await aws.ec2.send(
      new DescribeVpcsCommand({
        Filters: [{ Name: "tag:KubernetesCluster", Values: [NAME] }],
      }),
    );
    const vpcId = vpcs.Vpcs![0]!.VpcId!;
    const foreign = await aws.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.42.200.0/24" }),
    );

    const down = await sb.task("teardown.ts", [
      "--provider",
      "aws",
      "--name",
      NAME,
      "--timeout",
      "2s",
    ]);
    assert.equal(down.code, 1, down.stderr);
    const error = down.stderr.trim().split("\n").at(-1)!;
    assert.match(
      error,
      new RegExp(
        `^error: 1 resource of cluster "${NAME}" in us-east-1 is still there: vpc ${vpcId} \\(.*DependencyViolation`,
      ),
    );
    assert.equal((await inventory(aws, NAME)).length, 1);

    await aws.ec2.send(new DeleteSubnetCommand({ SubnetId: foreign.Subnet!.SubnetId! }));
    const retry = await sb.task("teardown.ts", ["--provider", "aws", "--name", NAME]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(await census(aws), empty());
  } finally {
    await sb.cleanup();
  }
});

Deno.test("teardown also removes what Kubernetes created for the cluster: load balancers, target groups, volumes, security groups", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const up = await sb.task("bootstrap_aws.ts", [
      "--name",
      NAME,
      "--api-cidr",
      "198.51.100.7/32",
      "--image-id",
      await m.image(),
      "--no-wait",
    ]);
    assert.equal(up.code, 0, up.stderr);
    const aws = m.clients();
    const owned = [{ Key: `kubernetes.io/cluster/${NAME}`, Value: "owned" }];
    const vpcId = (await aws.ec2.send(
      new DescribeVpcsCommand({
        Filters: [{ Name: "tag:KubernetesCluster", Values: [NAME] }],
      }),
    )).Vpcs![0]!.VpcId!;
    const subnets = (await aws.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: "vpc-id", Values: [vpcId] }],
      }),
    )).Subnets!.map((s) => s.SubnetId!);
    // What the AWS cloud controller manager makes for a Service of type LoadBalancer and a PV.
    const sg = await aws.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "k8s-elb-a1b2c3",
        Description: "Security group for Kubernetes ELB",
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: owned }],
      }),
    );
    await aws.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: "k8s-default-web-0123",
        Subnets: subnets,
        Type: "network",
        Tags: owned,
      }),
    );
    await aws.elbv2.send(
      new CreateTargetGroupCommand({
        Name: "k8s-default-web-tg",
        Protocol: "TCP",
        Port: 30080,
        VpcId: vpcId,
        Tags: owned,
      }),
    );
    await aws.elb.send(
      new CreateClassicLb({
        LoadBalancerName: "a0123456789abcdef",
        Listeners: [{ Protocol: "TCP", LoadBalancerPort: 80, InstancePort: 30081 }],
        Subnets: subnets,
        SecurityGroups: [sg.GroupId!],
        Tags: owned,
      }),
    );
    await aws.ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: "us-east-1a",
        Size: 10,
        TagSpecifications: [{ ResourceType: "volume", Tags: owned }],
      }),
    );
    const before = countByType(await inventory(aws, NAME));
    assert.equal(before["load-balancer"], 1);
    assert.equal(before["classic-load-balancer"], 1);
    assert.equal(before["target-group"], 1);
    assert.equal(before.volume, 1);
    assert.equal(before["security-group"], 3);

    const down = await sb.task("teardown.ts", ["--provider", "aws", "--name", NAME]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /1\/1 load-balancer, 1\/1 classic-load-balancer, 1\/1 target-group/);
    assert.deepEqual(await census(aws), empty());
    assert.equal(
      (await aws.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.length,
      0,
    );
    assert.equal(
      (await aws.elb.send(new DescribeClassicLbs({}))).LoadBalancerDescriptions?.length,
      0,
    );
  } finally {
    await sb.cleanup();
  }
});
