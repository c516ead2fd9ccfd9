/**
 * How each type of a cluster's AWS resources is deleted: one deleter per resource type, in one
 * list ({@link DELETERS}). A deleter deletes one resource (what depends on it inside, such as
 * records, targets or attachments, first); `prepare` runs once before a type's deletes, `settle`
 * once after, waiting until they are really gone. Teardown (lib/aws/teardown.ts) runs them in
 * dependency order and retries deletes that fail on dependencies until the deadline.
 */
import {
  DeleteAutoScalingGroupCommand,
  waitUntilGroupNotExists,
} from "@aws-sdk/client-auto-scaling";
import { DeleteLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DeleteInternetGatewayCommand,
  DeleteLaunchTemplateCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DetachInternetGatewayCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  DisassociateRouteTableCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { DeleteLoadBalancerCommand as DeleteClassicLb } from "@aws-sdk/client-elastic-load-balancing";
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  DeleteRuleCommand,
  ListTargetsByRuleCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  RemoveRoleFromInstanceProfileCommand,
} from "@aws-sdk/client-iam";
import { DeleteFunctionCommand } from "@aws-sdk/client-lambda";
import {
  ChangeResourceRecordSetsCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
} from "@aws-sdk/client-route-53";
import { DeleteParameterCommand } from "@aws-sdk/client-ssm";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import { type Deadline, pollUntil } from "../wait.ts";
import { awsErrorName } from "./aws_error.ts";
import { awsWaiter } from "./aws_wait.ts";
import type { AwsClients } from "./clients.ts";
import type { Resource, ResourceType } from "./inventory.ts";
import { CLUSTER_TAG } from "./names.ts";

/** Errors that mean "already gone": a delete that finds nothing succeeded. */
const GONE_ERRORS =
  /NotFound|NoSuchEntity|NoSuchHostedZone|ParameterNotFound|ResourceNotFoundException|InvalidAllocationID|InvalidAssociationID|ValidationError.*not found/i;

export function isGone(err: unknown): boolean {
  const name = awsErrorName(err) ?? "";
  return GONE_ERRORS.test(name) ||
    (name === "ValidationError" && /not found|does not exist/i.test(errorMessage(err)));
}

/** Ignores "already gone" errors of a call whose target may have gone with something else. */
async function unlessGone(p: Promise<unknown>, alsoFine?: string): Promise<void> {
  await p.catch((err) => {
    if (!isGone(err) && awsErrorName(err) !== alsoFine) throw err;
  });
}

/** What a deleter's `prepare` and `settle` get. */
export interface DeleteContext {
  aws: AwsClients;
  /** The cluster's name. */
  name: string;
  deadline: Deadline;
  progress: (m: string) => void;
}

export interface Deleter {
  readonly type: ResourceType;
  delete(aws: AwsClients, r: Resource): Promise<unknown>;
  prepare?(c: DeleteContext, items: readonly Resource[]): Promise<void>;
  settle?(c: DeleteContext, items: readonly Resource[]): Promise<void>;
}

const split = (v: string | undefined) => (v ?? "").split(",").filter(Boolean);

/** Every type's deleter, in the order teardown deletes them. */
export const DELETERS: readonly Deleter[] = [
  {
    type: "autoscaling-group",
    delete: (aws, r) =>
      aws.asg.send(
        new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: r.id, ForceDelete: true }),
      ),
    async settle(c, items) {
      if (!items.length) return;
      const names = items.map((r) => r.id);
      c.progress(`waiting until ${names.join(", ")} are deleted`);
      await awsWaiter(waitUntilGroupNotExists, c.aws.asg, { AutoScalingGroupNames: names }, {
        deadline: c.deadline,
        describe: () => `Auto Scaling groups ${names.join(", ")} were not deleted in time`,
      });
    },
  },
  {
    type: "eventbridge-rule",
    async delete(aws, r) {
      const t = await aws.events.send(new ListTargetsByRuleCommand({ Rule: r.id }));
      const ids = (t.Targets ?? []).map((x) => x.Id!);
      if (ids.length) await aws.events.send(new RemoveTargetsCommand({ Rule: r.id, Ids: ids }));
      await aws.events.send(new DeleteRuleCommand({ Name: r.id }));
    },
  },
  {
    type: "load-balancer",
    delete: (aws, r) => aws.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: r.id })),
  },
  {
    type: "classic-load-balancer",
    delete: (aws, r) => aws.elb.send(new DeleteClassicLb({ LoadBalancerName: r.id })),
  },
  {
    type: "target-group",
    delete: (aws, r) => aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: r.id })),
  },
  {
    type: "instance",
    delete: (aws, r) =>
      unlessGone(aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [r.id] }))),
    // Every instance of the cluster, also those its groups launched since the inventory.
    async settle(c) {
      let left: string[] = [];
      await pollUntil(async () => {
        const out = await c.aws.ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${CLUSTER_TAG}`, Values: [c.name] },
              {
                Name: "instance-state-name",
                Values: ["pending", "running", "shutting-down", "stopping", "stopped"],
              },
            ],
          }),
        );
        left = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
        if (left.length) c.progress(`${left.length} instances still terminating`);
        return left.length === 0;
      }, {
        deadline: c.deadline,
        intervalMs: 1_000,
        maxIntervalMs: 10_000,
        describe: () =>
          `Instances of cluster "${c.name}" did not terminate ${c.deadline.within}: ${
            left.join(", ")
          }`,
      });
    },
  },
  {
    type: "lambda-function",
    delete: (aws, r) => aws.lambda.send(new DeleteFunctionCommand({ FunctionName: r.id })),
  },
  {
    type: "log-group",
    delete: (aws, r) => aws.logs.send(new DeleteLogGroupCommand({ logGroupName: r.id })),
  },
  {
    type: "launch-template",
    delete: (aws, r) => aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: r.id })),
  },
  {
    type: "hosted-zone",
    async delete(aws, r) {
      const rr = await aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: r.id }));
      const changes = (rr.ResourceRecordSets ?? [])
        .filter((x) => x.Type !== "SOA" && x.Type !== "NS")
        .map((x) => ({ Action: "DELETE" as const, ResourceRecordSet: x }));
      if (changes.length) {
        await aws.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: r.id,
            ChangeBatch: { Changes: changes },
          }),
        );
      }
      await aws.route53.send(new DeleteHostedZoneCommand({ Id: r.id }));
    },
  },
  {
    type: "instance-profile",
    async delete(aws, r) {
      for (const role of split(r.meta?.roles)) {
        await unlessGone(aws.iam.send(
          new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: r.id, RoleName: role }),
        ));
      }
      await aws.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: r.id }));
    },
  },
  {
    type: "iam-role",
    async delete(aws, r) {
      const inline = await aws.iam.send(new ListRolePoliciesCommand({ RoleName: r.id }));
      for (const pn of inline.PolicyNames ?? []) {
        await aws.iam.send(new DeleteRolePolicyCommand({ RoleName: r.id, PolicyName: pn }));
      }
      const attached = await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.id }));
      for (const ap of attached.AttachedPolicies ?? []) {
        await aws.iam.send(
          new DetachRolePolicyCommand({ RoleName: r.id, PolicyArn: ap.PolicyArn! }),
        );
      }
      await aws.iam.send(new DeleteRoleCommand({ RoleName: r.id }));
    },
  },
  {
    type: "ssm-parameter",
    delete: (aws, r) => aws.ssm.send(new DeleteParameterCommand({ Name: r.id })),
  },
  {
    type: "elastic-ip",
    async delete(aws, r) {
      if (r.meta?.association) {
        await unlessGone(
          aws.ec2.send(new DisassociateAddressCommand({ AssociationId: r.meta.association })),
        );
      }
      await aws.ec2.send(new ReleaseAddressCommand({ AllocationId: r.id }));
    },
  },
  {
    type: "volume",
    delete: (aws, r) => aws.ec2.send(new DeleteVolumeCommand({ VolumeId: r.id })),
  },
  {
    type: "network-interface",
    async delete(aws, r) {
      if (r.meta?.attachment) {
        await unlessGone(aws.ec2.send(
          new DetachNetworkInterfaceCommand({ AttachmentId: r.meta.attachment, Force: true }),
        ));
      }
      await aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: r.id }));
    },
  },
  {
    type: "security-group",
    delete: (aws, r) => aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: r.id })),
    // Rules that name other groups keep those groups "in use": revoke every rule first.
    async prepare(c, items) {
      if (!items.length) return;
      const sgs = await c.aws.ec2.send(
        new DescribeSecurityGroupsCommand({ GroupIds: items.map((r) => r.id) }),
      ).catch((err) => {
        if (isGone(err)) return { SecurityGroups: [] };
        throw err;
      });
      for (const g of sgs.SecurityGroups ?? []) {
        const revoke = (what: string, p: Promise<unknown>) =>
          p.catch((err) => log.debug(`revoke ${what} ${g.GroupId}: ${errorMessage(err)}`));
        if (g.IpPermissions?.length) {
          await revoke(
            "ingress",
            c.aws.ec2.send(
              new RevokeSecurityGroupIngressCommand({
                GroupId: g.GroupId!,
                IpPermissions: g.IpPermissions,
              }),
            ),
          );
        }
        if (g.IpPermissionsEgress?.length) {
          await revoke(
            "egress",
            c.aws.ec2.send(
              new RevokeSecurityGroupEgressCommand({
                GroupId: g.GroupId!,
                IpPermissions: g.IpPermissionsEgress,
              }),
            ),
          );
        }
      }
    },
  },
  {
    type: "route-table",
    async delete(aws, r) {
      for (const a of split(r.meta?.associations)) {
        await unlessGone(aws.ec2.send(new DisassociateRouteTableCommand({ AssociationId: a })));
      }
      // The VPC's main table goes with the VPC.
      if (r.meta?.main !== "true") {
        await aws.ec2.send(new DeleteRouteTableCommand({ RouteTableId: r.id }));
      }
    },
  },
  {
    type: "subnet",
    delete: (aws, r) => aws.ec2.send(new DeleteSubnetCommand({ SubnetId: r.id })),
  },
  {
    type: "internet-gateway",
    async delete(aws, r) {
      for (const vpc of split(r.meta?.vpcs)) {
        await unlessGone(
          aws.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: r.id, VpcId: vpc })),
          "Gateway.NotAttached",
        );
      }
      await aws.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: r.id }));
    },
  },
  {
    type: "vpc",
    delete: (aws, r) => aws.ec2.send(new DeleteVpcCommand({ VpcId: r.id })),
  },
];

/** The deleter of `type`. */
export function deleterOf(type: ResourceType): Deleter {
  const d = DELETERS.find((x) => x.type === type);
  if (!d) throw new Error(`internal error: no deleter for ${type} in lib/aws/deleters.ts`);
  return d;
}
