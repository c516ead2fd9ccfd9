/**
 * The Route 53 dynamic-DNS function: on an Auto Scaling launch or terminate event of a cluster's
 * group, it looks up the group's InService instances and UPSERTs the multi-value A record
 * `<role>.<cluster>.k8s` with their private IPs, or deletes the record when none are left. So
 * minions find the masters by name (`masters.<cluster>.k8s`) whatever instances the groups hold.
 *
 * Configuration (environment, set by bootstrap:aws): ZONE_ID, ZONE_NAME (`<cluster>.k8s`),
 * CLUSTER, GROUP_ROLES (JSON `{"<group name>": "masters" | "minions"}`).
 * Bundled for the Node.js runtime by lib/aws/lambda_bundle.ts; the handler is `index.handler`.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";

/** The part of an EventBridge Auto Scaling event the function reads. */
export interface AsgEvent {
  "detail-type"?: string;
  detail?: { AutoScalingGroupName?: string };
}

export interface DnsConfig {
  zoneId: string;
  /** `<cluster>.k8s` */
  zoneName: string;
  cluster: string;
  /** Group name → role (`masters`, `minions`). */
  groupRoles: Record<string, string>;
}

export interface DnsClients {
  asg: AutoScalingClient;
  ec2: EC2Client;
  route53: Route53Client;
}

export interface RecordResult {
  record: string;
  action: "upsert" | "delete" | "unchanged";
  ips: string[];
}

const TTL = 30;

async function inServiceIps(group: string, config: DnsConfig, c: DnsClients): Promise<string[]> {
  const out = await c.asg.send(
    new DescribeAutoScalingGroupsCommand({
      AutoScalingGroupNames: [group],
    }),
  );
  const g = out.AutoScalingGroups?.[0];
  if (!g) return []; // the group is gone: no members
  const tag = g.Tags?.find((t) => t.Key === "KubernetesCluster")?.Value;
  if (tag !== config.cluster) {
    throw new Error(`group ${group} is not tagged KubernetesCluster=${config.cluster}`);
  }
  const ids = (g.Instances ?? []).filter((i) => i.LifecycleState === "InService").map((i) =>
    i.InstanceId!
  );
  if (ids.length === 0) return [];
  const ips: string[] = [];
  let token: string | undefined;
  do {
    const page = await c.ec2.send(
      new DescribeInstancesCommand({
        InstanceIds: ids,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        const state = i.State?.Name;
        if (i.PrivateIpAddress && (state === "running" || state === "pending")) {
          ips.push(i.PrivateIpAddress);
        }
      }
    }
    token = page.NextToken;
  } while (token);
  return ips.sort();
}

async function currentRecord(
  name: string,
  config: DnsConfig,
  c: DnsClients,
): Promise<string[] | undefined> {
  const out = await c.route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: config.zoneId,
      StartRecordName: name,
      StartRecordType: "A",
      MaxItems: 1,
    }),
  );
  const rr = out.ResourceRecordSets?.find((r) =>
    r.Type === "A" && r.Name?.replace(/\.$/, "") === name.replace(/\.$/, "")
  );
  return rr ? (rr.ResourceRecords ?? []).map((r) => r.Value!).sort() : undefined;
}

/** Brings the record of one group's role in line with the group's InService instances. */
export async function syncGroup(
  group: string,
  config: DnsConfig,
  clients: DnsClients,
): Promise<RecordResult> {
  const role = config.groupRoles[group];
  if (!role) throw new Error(`group ${group} is not one of this cluster's groups`);
  const record = `${role}.${config.zoneName}.`;
  const [ips, current] = await Promise.all([
    inServiceIps(group, config, clients),
    currentRecord(record, config, clients),
  ]);
  if (ips.length === 0) {
    if (!current) return { record, action: "unchanged", ips };
    await clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: config.zoneId,
        ChangeBatch: {
          Comment: `cncfdemo: ${group} has no InService instances`,
          Changes: [{
            Action: "DELETE",
            ResourceRecordSet: {
              Name: record,
              Type: "A",
              TTL,
              ResourceRecords: current.map((Value) => ({ Value })),
            },
          }],
        },
      }),
    );
    return { record, action: "delete", ips };
  }
  if (current && current.join(",") === ips.join(",")) {
    return { record, action: "unchanged", ips };
  }
  await clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: config.zoneId,
      ChangeBatch: {
        Comment: `cncfdemo: InService instances of ${group}`,
        Changes: [{
          Action: "UPSERT",
          ResourceRecordSet: {
            Name: record,
            Type: "A",
            TTL,
            ResourceRecords: ips.map((Value) => ({ Value })),
          },
        }],
      },
    }),
  );
  return { record, action: "upsert", ips };
}

/**
 * Handles one event: syncs the event's group, or every group of the cluster when the event names
 * none of them (a manual invocation re-syncs everything).
 */
export async function handleEvent(
  event: AsgEvent,
  config: DnsConfig,
  clients: DnsClients,
): Promise<RecordResult[]> {
  const group = event.detail?.AutoScalingGroupName;
  const groups = group && config.groupRoles[group] ? [group] : Object.keys(config.groupRoles);
  const results: RecordResult[] = [];
  for (const g of groups) results.push(await syncGroup(g, config, clients));
  return results;
}

/** The configuration from the function's environment. */
export function configFromEnv(env: Record<string, string | undefined>): DnsConfig {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`environment variable ${k} is not set`);
    return v;
  };
  return {
    zoneId: need("ZONE_ID"),
    zoneName: need("ZONE_NAME"),
    cluster: need("CLUSTER"),
    groupRoles: JSON.parse(need("GROUP_ROLES")) as Record<string, string>,
  };
}

let cached: DnsClients | undefined;

/** The Lambda entry point. */
export async function handler(event: AsgEvent): Promise<RecordResult[]> {
  // deno-lint-ignore no-explicit-any
  const env = (globalThis as any).process?.env ?? {};
  cached ??= {
    asg: new AutoScalingClient({}),
    ec2: new EC2Client({}),
    route53: new Route53Client({}),
  };
  const results = await handleEvent(event, configFromEnv(env), cached);
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ event: event["detail-type"], results }));
  return results;
}
