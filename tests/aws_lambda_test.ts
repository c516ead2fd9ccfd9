/**
 * The Route 53 dynamic-DNS Lambda against a real moto_server: the handler imported and called with
 * SDK clients pointed at moto (moto's EventBridge never invokes Lambda targets), and the bundled
 * package run under Node.js as the Lambda runtime would.
 */
import assert from "node:assert/strict";
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { type DnsConfig, handleEvent } from "../lambda/dns.ts";
import { lambdaPackage } from "../lib/aws/lambda_bundle.ts";
import { hasProgram } from "../lib/run_program.ts";
import { moto, TEST_REGION } from "./support/moto.ts";

const CLUSTER = "dns";
const MASTERS = `cncfdemo-${CLUSTER}-masters`;
const MINIONS = `cncfdemo-${CLUSTER}-minions`;

async function setup(minions: number) {
  const m = await moto();
  await m.reset();
  const aws = m.clients();
  const vpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnet = await aws.ec2.send(
    new CreateSubnetCommand({
      VpcId: vpcId,
      CidrBlock: "10.42.0.0/20",
      AvailabilityZone: `${TEST_REGION}a`,
    }),
  );
  const zone = await aws.route53.send(
    new CreateHostedZoneCommand({
      Name: `${CLUSTER}.k8s`,
      CallerReference: crypto.randomUUID(),
      HostedZoneConfig: { PrivateZone: true, Comment: "test" },
      VPC: { VPCId: vpcId, VPCRegion: TEST_REGION },
    }),
  );
  const lt = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: "dns-test",
      LaunchTemplateData: { ImageId: await m.image(), InstanceType: "t3.micro" },
    }),
  );
  for (
    const [group, role, size] of [[MASTERS, "masters", 1], [MINIONS, "minions", minions]] as const
  ) {
    await aws.asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchTemplate: {
          LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!,
          Version: "$Latest",
        },
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: size,
        VPCZoneIdentifier: subnet.Subnet!.SubnetId!,
        Tags: [
          { Key: "KubernetesCluster", Value: CLUSTER, PropagateAtLaunch: true },
          { Key: "Role", Value: role, PropagateAtLaunch: true },
        ],
      }),
    );
  }
  const config: DnsConfig = {
    zoneId: zone.HostedZone!.Id!.replace("/hostedzone/", ""),
    zoneName: `${CLUSTER}.k8s`,
    cluster: CLUSTER,
    groupRoles: { [MASTERS]: "masters", [MINIONS]: "minions" },
  };
  return { m, aws, config };
}

type Clients = Awaited<ReturnType<typeof setup>>["aws"];

async function groupIps(aws: Clients, group: string): Promise<string[]> {
  const g = await aws.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  const ids = (g.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!);
  if (!ids.length) return [];
  const out = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.PrivateIpAddress!)
    .sort();
}

async function record(aws: Clients, zoneId: string, name: string): Promise<string[] | undefined> {
  const out = await aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const rr = out.ResourceRecordSets?.find((r) => r.Name === name && r.Type === "A");
  return rr?.ResourceRecords?.map((r) => r.Value!).sort();
}

const launch = (group: string) => ({
  "detail-type": "EC2 Instance Launch Successful",
  detail: { AutoScalingGroupName: group },
});

Deno.test("DNS Lambda: the record follows the group's InService instances, then is removed", async () => {
  const { aws, config } = await setup(3);
  const name = `minions.${CLUSTER}.k8s.`;
  const ips = await groupIps(aws, MINIONS);
  assert.equal(ips.length, 3);

  const [created] = await handleEvent(launch(MINIONS), config, aws);
  assert.deepEqual(created, { record: name, action: "upsert", ips });
  assert.deepEqual(await record(aws, config.zoneId, name), ips);
  assert.equal(await record(aws, config.zoneId, `masters.${CLUSTER}.k8s.`), undefined);

  const [same] = await handleEvent(launch(MINIONS), config, aws);
  assert.equal(same!.action, "unchanged");

  const g = await aws.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [MINIONS] }),
  );
  const victim = g.AutoScalingGroups![0]!.Instances![0]!.InstanceId!;
  await aws.asg.send(
    new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: victim,
      ShouldDecrementDesiredCapacity: true,
    }),
  );
  const left = await groupIps(aws, MINIONS);
  assert.equal(left.length, 2);
  const [updated] = await handleEvent(
    {
      "detail-type": "EC2 Instance Terminate Successful",
      detail: { AutoScalingGroupName: MINIONS },
    },
    config,
    aws,
  );
  assert.equal(updated!.action, "upsert");
  assert.deepEqual(await record(aws, config.zoneId, name), left);

  await aws.asg.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: MINIONS,
      MinSize: 0,
      DesiredCapacity: 0,
    }),
  );
  assert.deepEqual(await groupIps(aws, MINIONS), []);
  const [removed] = await handleEvent(
    {
      "detail-type": "EC2 Instance Terminate Successful",
      detail: { AutoScalingGroupName: MINIONS },
    },
    config,
    aws,
  );
  assert.equal(removed!.action, "delete");
  assert.equal(await record(aws, config.zoneId, name), undefined);
});

Deno.test("DNS Lambda: an event naming no group of the cluster re-syncs every group", async () => {
  const { aws, config } = await setup(2);
  const results = await handleEvent(
    { detail: { AutoScalingGroupName: "someone-else" } },
    config,
    aws,
  );
  assert.deepEqual(results.map((r) => [r.record, r.action, r.ips.length]), [
    [`masters.${CLUSTER}.k8s.`, "upsert", 1],
    [`minions.${CLUSTER}.k8s.`, "upsert", 2],
  ]);
  assert.deepEqual(
    await record(aws, config.zoneId, `masters.${CLUSTER}.k8s.`),
    await groupIps(aws, MASTERS),
  );
});

Deno.test("DNS Lambda: refuses a group not tagged for its cluster", async () => {
  const { aws, config } = await setup(1);
  await assert.rejects(
    handleEvent(launch(MASTERS), { ...config, cluster: "other" }, aws),
    /is not tagged KubernetesCluster=other/,
  );
});

Deno.test({
  name: "DNS Lambda: the bundled package runs under Node.js against moto",
  ignore: !(await hasProgram("node")),
  async fn() {
    const { m, aws, config } = await setup(2);
    const pkg = await lambdaPackage();
    const dir = await Deno.makeTempDir({ prefix: "cncfdemo-lambda-" });
    try {
      await Deno.writeTextFile(`${dir}/index.mjs`, pkg.code);
      const script = `import("${dir}/index.mjs").then((m) => m.handler(${
        JSON.stringify(launch(MINIONS))
      })).then((r) => process.stdout.write("\\nRESULT " + JSON.stringify(r)))`;
      const out = await new Deno.Command("node", {
        args: ["--input-type=module", "-e", script],
        env: {
          ...m.env,
          ZONE_ID: config.zoneId,
          ZONE_NAME: config.zoneName,
          CLUSTER,
          GROUP_ROLES: JSON.stringify(config.groupRoles),
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const stdout = new TextDecoder().decode(out.stdout);
      // The handler logs one JSON line (CloudWatch Logs), then the script prints the result.
      assert.match(stdout, /^\{"event":"EC2 Instance Launch Successful","results":/);
      const results = JSON.parse(stdout.split("\nRESULT ")[1]!);
      assert.equal(results[0].action, "upsert");
      assert.deepEqual(
        await record(aws, config.zoneId, `minions.${CLUSTER}.k8s.`),
        await groupIps(aws, MINIONS),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
