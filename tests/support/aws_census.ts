/**
 * Test support: counts every resource in a (moto) account per type, without looking at tags —
 * an independent check of what bootstrap created and teardown left. The default VPC and what comes
 * with it (its subnets, gateway, route table, security group) are not counted.
 */
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import { ListRulesCommand } from "@aws-sdk/client-eventbridge";
import { ListInstanceProfilesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ListHostedZonesCommand } from "@aws-sdk/client-route-53";
import { DescribeParametersCommand } from "@aws-sdk/client-ssm";
import type { AwsClients } from "../../lib/aws/clients.ts";

export type Census = Record<string, number>;

/** Every resource per type (main route tables and default security groups of non-default VPCs included). */
export async function census(aws: AwsClients): Promise<Census> {
  const vpcs = (await aws.ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
  const defaults = new Set(vpcs.filter((v) => v.IsDefault).map((v) => v.VpcId));
  const notDefault = (vpc?: string) => !defaults.has(vpc);
  const instances = ((await aws.ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [])
    .flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== "terminated");
  const igws = (await aws.ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? [];
  const volumes = (await aws.ec2.send(new DescribeVolumesCommand({}))).Volumes ?? [];
  return {
    vpc: vpcs.filter((v) => !v.IsDefault).length,
    subnet:
      ((await aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).filter((s) =>
        notDefault(s.VpcId)
      ).length,
    "internet-gateway":
      igws.filter((g) => !(g.Attachments ?? []).some((a) => defaults.has(a.VpcId)))
        .length,
    "route-table": ((await aws.ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? [])
      .filter((t) => notDefault(t.VpcId)).length,
    "security-group":
      ((await aws.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).filter((
        g,
      ) => notDefault(g.VpcId)).length,
    instance: instances.length,
    "elastic-ip": ((await aws.ec2.send(new DescribeAddressesCommand({}))).Addresses ?? []).length,
    "launch-template":
      ((await aws.ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates ?? []).length,
    volume: volumes.filter((v) => v.State !== "deleted" && !(v.Attachments ?? []).length).length,
    "network-interface":
      ((await aws.ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? [])
        .filter((e) => notDefault(e.VpcId) && !e.Attachment).length,
    "autoscaling-group":
      ((await aws.asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [])
        .length,
    "iam-role": ((await aws.iam.send(new ListRolesCommand({}))).Roles ?? []).length,
    "instance-profile":
      ((await aws.iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []).length,
    "hosted-zone":
      ((await aws.route53.send(new ListHostedZonesCommand({}))).HostedZones ?? []).length,
    "lambda-function":
      ((await aws.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).length,
    "log-group": ((await aws.logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).length,
    "eventbridge-rule": ((await aws.events.send(new ListRulesCommand({}))).Rules ?? []).length,
    "ssm-parameter":
      ((await aws.ssm.send(new DescribeParametersCommand({ MaxResults: 50 }))).Parameters ?? [])
        .length,
  };
}

/** The census after `bootstrap:aws --no-wait` with 1 master and `minions` minions. */
export function expectedAfterBootstrap(minions: number): Census {
  return {
    vpc: 1,
    subnet: 2,
    "internet-gateway": 1,
    "route-table": 2, // ours + the VPC's main table
    "security-group": 3, // masters, minions + the VPC's default group
    instance: 1 + minions,
    "elastic-ip": 1,
    "launch-template": 2,
    volume: 0, // root volumes are attached
    "network-interface": 0, // attached to instances
    "autoscaling-group": 2,
    "iam-role": 3,
    "instance-profile": 2,
    "hosted-zone": 1,
    "lambda-function": 1,
    "log-group": 1,
    "eventbridge-rule": 1,
    "ssm-parameter": 5, // CA cert, CA key, token, kubeadm init, kubeadm join
  };
}

/** Every type at zero. */
export function empty(): Census {
  return Object.fromEntries(Object.keys(expectedAfterBootstrap(0)).map((k) => [k, 0]));
}
