/**
 * Everything a cluster owns on AWS in one region, found from tags and names alone: EC2 resources
 * tagged `KubernetesCluster=<name>` or `kubernetes.io/cluster/<name>` (what Kubernetes creates),
 * the Auto Scaling groups, the Lambda, its log group, the EventBridge rule, the SSM parameters
 * under `/cncfdemo/<name>/`, load balancers and target groups tagged for the cluster — and of the
 * global ones only this region's: IAM roles and instance profiles under
 * `/cncfdemo/<name>/<region>/` tagged with the cluster and the region, and the private hosted zone
 * tagged (or, before its tags, commented) likewise. A cluster of the same name in another region
 * is never part of it. Teardown takes it before and after.
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
  type Filter,
} from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand as DescribeClassicLbs,
  DescribeTagsCommand as DescribeClassicTags,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  GetInstanceProfileCommand,
  ListInstanceProfilesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
} from "@aws-sdk/client-iam";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import {
  type HostedZone,
  ListHostedZonesByNameCommand,
  ListTagsForResourcesCommand,
  type ResourceTagSet,
} from "@aws-sdk/client-route-53";
import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { awsErrorName } from "./aws_error.ts";
import type { AwsClients } from "./clients.ts";
import { CLUSTER_TAG, type ClusterNames, clusterNames, isOurs, k8sClusterTag } from "./names.ts";

/** The kinds of resource, in the order teardown deletes them. */
export const RESOURCE_TYPES = [
  "autoscaling-group",
  "eventbridge-rule",
  "load-balancer",
  "classic-load-balancer",
  "target-group",
  "instance",
  "lambda-function",
  "log-group",
  "launch-template",
  "hosted-zone",
  "instance-profile",
  "iam-role",
  "ssm-parameter",
  "elastic-ip",
  "volume",
  "network-interface",
  "security-group",
  "subnet",
  "route-table",
  "internet-gateway",
  "vpc",
] as const;

export type ResourceType = typeof RESOURCE_TYPES[number];

export interface Resource {
  type: ResourceType;
  id: string;
  /** Extra facts teardown needs (VPC of a route table, main flag, attachments). */
  meta?: Record<string, string>;
}

export type Inventory = Resource[];

/** Counts per type, every type present (0 when none). */
export function countByType(inv: Inventory): Record<ResourceType, number> {
  const out = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, 0])) as Record<ResourceType, number>;
  for (const r of inv) out[r.type]++;
  return out;
}

/** `1 vpc, 2 subnet, …` for the non-zero counts. */
export function describeCounts(inv: Inventory): string {
  const c = countByType(inv);
  const parts = RESOURCE_TYPES.filter((t) => c[t] > 0).map((t) => `${c[t]} ${t}`);
  return parts.length ? parts.join(", ") : "nothing";
}

function ec2Filters(name: string): Filter[][] {
  return [
    [{ Name: `tag:${CLUSTER_TAG}`, Values: [name] }],
    [{ Name: "tag-key", Values: [k8sClusterTag(name)] }],
  ];
}

async function ec2Resources(aws: AwsClients, name: string): Promise<Resource[]> {
  const out = new Map<string, Resource>();
  const add = (r: Resource) => out.set(`${r.type}/${r.id}`, r);
  await Promise.all(
    ec2Filters(name).map(async (Filters) => {
      const [vpcs, subnets, igws, rts, sgs, addrs, lts, vols, enis] = await Promise.all([
        aws.ec2.send(new DescribeVpcsCommand({ Filters })),
        aws.ec2.send(new DescribeSubnetsCommand({ Filters })),
        aws.ec2.send(new DescribeInternetGatewaysCommand({ Filters })),
        aws.ec2.send(new DescribeRouteTablesCommand({ Filters })),
        aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters })),
        aws.ec2.send(new DescribeAddressesCommand({ Filters })),
        aws.ec2.send(new DescribeLaunchTemplatesCommand({ Filters })),
        aws.ec2.send(new DescribeVolumesCommand({ Filters })),
        aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters })),
      ]);
      for (const v of vpcs.Vpcs ?? []) add({ type: "vpc", id: v.VpcId! });
      for (const s of subnets.Subnets ?? []) add({ type: "subnet", id: s.SubnetId! });
      for (const g of igws.InternetGateways ?? []) {
        add({
          type: "internet-gateway",
          id: g.InternetGatewayId!,
          meta: { vpcs: (g.Attachments ?? []).map((a) => a.VpcId).join(",") },
        });
      }
      for (const t of rts.RouteTables ?? []) {
        add({
          type: "route-table",
          id: t.RouteTableId!,
          meta: {
            associations: (t.Associations ?? []).filter((a) => !a.Main).map((a) =>
              a.RouteTableAssociationId
            ).join(","),
            main: String((t.Associations ?? []).some((a) => a.Main)),
          },
        });
      }
      for (const g of sgs.SecurityGroups ?? []) {
        if (g.GroupName === "default") continue; // deleted with the VPC
        add({ type: "security-group", id: g.GroupId! });
      }
      for (const a of addrs.Addresses ?? []) {
        add({
          type: "elastic-ip",
          id: a.AllocationId!,
          meta: { association: a.AssociationId ?? "", ip: a.PublicIp ?? "" },
        });
      }
      for (const l of lts.LaunchTemplates ?? []) {
        add({ type: "launch-template", id: l.LaunchTemplateId! });
      }
      for (const v of vols.Volumes ?? []) {
        if (v.State !== "deleted") {
          add({ type: "volume", id: v.VolumeId!, meta: { state: v.State ?? "" } });
        }
      }
      for (const e of enis.NetworkInterfaces ?? []) {
        add({
          type: "network-interface",
          id: e.NetworkInterfaceId!,
          meta: { status: e.Status ?? "", attachment: e.Attachment?.AttachmentId ?? "" },
        });
      }
      let token: string | undefined;
      do {
        const page = await aws.ec2.send(
          new DescribeInstancesCommand({
            Filters: [...Filters, {
              Name: "instance-state-name",
              Values: ["pending", "running", "shutting-down", "stopping", "stopped"],
            }],
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const r of page.Reservations ?? []) {
          for (const i of r.Instances ?? []) {
            add({ type: "instance", id: i.InstanceId!, meta: { state: i.State?.Name ?? "" } });
          }
        }
        token = page.NextToken;
      } while (token);
    }),
  );
  return [...out.values()];
}

async function groups(aws: AwsClients, name: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let token: string | undefined;
  do {
    const page = await aws.asg.send(
      new DescribeAutoScalingGroupsCommand({
        Filters: [{ Name: `tag:${CLUSTER_TAG}`, Values: [name] }],
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const g of page.AutoScalingGroups ?? []) {
      out.push({ type: "autoscaling-group", id: g.AutoScalingGroupName! });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

async function iam(aws: AwsClients, n: ClusterNames): Promise<Resource[]> {
  const path = n.iamPath;
  const out: Resource[] = [];
  let marker: string | undefined;
  do {
    const page = await aws.iam.send(
      new ListRolesCommand({ PathPrefix: path, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const r of page.Roles ?? []) {
      if (r.Path !== path) continue;
      const tags = await aws.iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName! }));
      if (isOurs(tags.Tags, n)) out.push({ type: "iam-role", id: r.RoleName! });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  do {
    const page = await aws.iam.send(
      new ListInstanceProfilesCommand({ PathPrefix: path, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const p of page.InstanceProfiles ?? []) {
      if (p.Path !== path) continue;
      const got = await aws.iam.send(
        new GetInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName! }),
      );
      if (!isOurs(got.InstanceProfile?.Tags, n)) continue;
      out.push({
        type: "instance-profile",
        id: p.InstanceProfileName!,
        meta: { roles: (p.Roles ?? []).map((r) => r.RoleName).join(",") },
      });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return out;
}

/** A hosted zone's id without `/hostedzone/`. */
export const bareZoneId = (id: string): string => id.replace("/hostedzone/", "");

/**
 * The private zones `<name>.k8s` of cluster `n.cluster` in `n.region`: tagged with both, or (a run
 * interrupted before tagging) commented with both; `tagged` says which.
 */
export async function clusterZones(
  aws: AwsClients,
  n: ClusterNames,
): Promise<{ id: string; tagged: boolean }[]> {
  const name = `${n.zone}.`;
  const zones: HostedZone[] = [];
  let next: { DNSName?: string; HostedZoneId?: string } = { DNSName: name };
  while (true) {
    const page = await aws.route53.send(new ListHostedZonesByNameCommand(next));
    zones.push(
      ...(page.HostedZones ?? []).filter((z) => z.Name === name && z.Config?.PrivateZone),
    );
    if (!page.IsTruncated || page.NextDNSName !== name) break;
    next = { DNSName: page.NextDNSName, HostedZoneId: page.NextHostedZoneId! };
  }
  const sets: ResourceTagSet[] = [];
  for (let i = 0; i < zones.length; i += 10) {
    const out = await aws.route53.send(
      new ListTagsForResourcesCommand({
        ResourceType: "hostedzone",
        ResourceIds: zones.slice(i, i + 10).map((z) => bareZoneId(z.Id!)),
      }),
    );
    sets.push(...(out.ResourceTagSets ?? []));
  }
  return zones.flatMap((z) => {
    const id = bareZoneId(z.Id!);
    const tagged = isOurs(sets.find((s) => s.ResourceId === id)?.Tags, n);
    return tagged || z.Config?.Comment === n.zoneComment ? [{ id, tagged }] : [];
  });
}

async function serverless(aws: AwsClients, n: ClusterNames): Promise<Resource[]> {
  const name = n.cluster;
  const out: Resource[] = [];
  try {
    const f = await aws.lambda.send(new GetFunctionCommand({ FunctionName: n.function }));
    if (f.Tags?.[CLUSTER_TAG] === name) out.push({ type: "lambda-function", id: n.function });
  } catch (err) {
    if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
  }
  try {
    await aws.events.send(new DescribeRuleCommand({ Name: n.rule }));
    out.push({ type: "eventbridge-rule", id: n.rule });
  } catch (err) {
    if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
  }
  const lg = await aws.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: n.logGroup }));
  for (const g of lg.logGroups ?? []) {
    if (g.logGroupName === n.logGroup) out.push({ type: "log-group", id: n.logGroup });
  }
  let token: string | undefined;
  do {
    const page = await aws.ssm.send(
      new GetParametersByPathCommand({
        Path: n.ssmPrefix,
        Recursive: true,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const p of page.Parameters ?? []) out.push({ type: "ssm-parameter", id: p.Name! });
    token = page.NextToken;
  } while (token);
  return out;
}

function taggedForCluster(tags: { Key?: string; Value?: string }[] | undefined, name: string) {
  return (tags ?? []).some((t) =>
    (t.Key === CLUSTER_TAG && t.Value === name) || t.Key === k8sClusterTag(name)
  );
}

/** Load balancers and target groups tagged for the cluster (made by Kubernetes' cloud provider). */
async function loadBalancers(aws: AwsClients, name: string): Promise<Resource[]> {
  const out: Resource[] = [];
  const lbs = await aws.elbv2.send(new DescribeLoadBalancersCommand({}));
  const tgs = await aws.elbv2.send(new DescribeTargetGroupsCommand({}));
  const arns = [
    ...(lbs.LoadBalancers ?? []).map((l) => ["load-balancer", l.LoadBalancerArn!] as const),
    ...(tgs.TargetGroups ?? []).map((t) => ["target-group", t.TargetGroupArn!] as const),
  ];
  for (let i = 0; i < arns.length; i += 20) {
    const batch = arns.slice(i, i + 20);
    const tags = await aws.elbv2.send(
      new DescribeTagsCommand({ ResourceArns: batch.map((b) => b[1]) }),
    );
    for (const d of tags.TagDescriptions ?? []) {
      if (!taggedForCluster(d.Tags, name)) continue;
      const type = batch.find((b) => b[1] === d.ResourceArn)?.[0];
      if (type) out.push({ type, id: d.ResourceArn! });
    }
  }
  const classic = await aws.elb.send(new DescribeClassicLbs({}));
  const names = (classic.LoadBalancerDescriptions ?? []).map((l) => l.LoadBalancerName!);
  for (let i = 0; i < names.length; i += 20) {
    const tags = await aws.elb.send(
      new DescribeClassicTags({ LoadBalancerNames: names.slice(i, i + 20) }),
    );
    for (const d of tags.TagDescriptions ?? []) {
      if (taggedForCluster(d.Tags, name)) {
        out.push({ type: "classic-load-balancer", id: d.LoadBalancerName! });
      }
    }
  }
  return out;
}

/** Everything cluster `name` owns in the clients' region, in teardown order. */
export async function inventory(aws: AwsClients, name: string): Promise<Inventory> {
  const n = clusterNames(name, aws.region);
  const parts = await Promise.all([
    ec2Resources(aws, name),
    groups(aws, name),
    iam(aws, n),
    clusterZones(aws, n).then((zs) => zs.map((z) => ({ type: "hosted-zone" as const, id: z.id }))),
    serverless(aws, n),
    loadBalancers(aws, name),
  ]);
  const order = (t: ResourceType) => RESOURCE_TYPES.indexOf(t);
  return parts.flat().sort((a, b) => order(a.type) - order(b.type) || a.id.localeCompare(b.id));
}
