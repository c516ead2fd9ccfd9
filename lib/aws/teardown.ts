/**
 * The steps of `teardown --provider aws`: inventory the cluster by tag, delete in dependency order
 * (groups and Kubernetes' load balancers, then instances, then what referenced them, then the
 * network from the leaves to the VPC), retrying deletes that fail on dependencies until the
 * deadline, then inventory again and fail, naming each leftover, when anything is still there.
 * The order is enforced here rather than trusted to AWS errors (moto, for one, does not raise them
 * for subnets with instances or VPCs with a gateway attached).
 */
import {
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
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
import { DeleteParametersCommand } from "@aws-sdk/client-ssm";
import { CncfdemoError, errorMessage } from "../errors.ts";
import { removeKubeEntry } from "../kube/kubeconfig.ts";
import { log } from "../log.ts";
import { parallel, type Step, type StepGroup } from "../steps.ts";
import { pollUntil } from "../wait.ts";
import { awsErrorName, awsFailure, awsStep } from "./aws_error.ts";
import type { AwsClients } from "./clients.ts";
import { CLUSTER_TAG } from "./names.ts";
import {
  describeCounts,
  type Inventory,
  inventory,
  type Resource,
  type ResourceType,
} from "./inventory.ts";

export interface AwsDeleteOptions {
  name: string;
  clients: AwsClients;
  kubeconfig: string;
  /** How long to keep retrying deletes that fail on dependencies, and to wait for instances. */
  timeoutMs: number;
}

/** Errors that mean "something still depends on it": retried until the deadline. */
const DEPENDENCY_ERRORS = new Set([
  "DependencyViolation",
  "InvalidGroup.InUse",
  "ResourceInUse",
  "ResourceInUseException",
  "DeleteConflict",
  "DeleteConflictException",
  "HostedZoneNotEmpty",
  "InvalidNetworkInterface.InUse",
  "VolumeInUse",
  "IncorrectState",
  "ScalingActivityInProgress",
  "ResourceConflictException",
  "TooManyUpdates",
]);

/** Errors that mean "already gone": a delete that finds nothing succeeded. */
const GONE_ERRORS =
  /NotFound|NoSuchEntity|NoSuchHostedZone|ParameterNotFound|ResourceNotFoundException|InvalidAllocationID|InvalidAssociationID|ValidationError.*not found/i;

function isGone(err: unknown): boolean {
  const name = awsErrorName(err) ?? "";
  return GONE_ERRORS.test(name) ||
    (name === "ValidationError" && /not found|does not exist/i.test(errorMessage(err)));
}

interface Ctx {
  aws: AwsClients;
  deadline: number;
  failures: Map<string, string>;
  progress: (m: string) => void;
}

/**
 * Runs `del` until it succeeds, the resource is gone, or the deadline passes while it fails on
 * dependencies (then the failure is recorded and the teardown goes on with the rest).
 */
async function retryDelete(c: Ctx, r: Resource, del: () => Promise<unknown>): Promise<boolean> {
  const label = `${r.type} ${r.id}`;
  let last = "";
  try {
    await pollUntil(async () => {
      try {
        await del();
        return true;
      } catch (err) {
        if (isGone(err)) return true;
        const name = awsErrorName(err) ?? "";
        if (!DEPENDENCY_ERRORS.has(name)) throw err;
        last = `${name}: ${errorMessage(err)}`;
        c.progress(`${label}: ${name}, retrying`);
        return false;
      }
    }, {
      timeoutMs: Math.max(c.deadline - performance.now(), 0),
      intervalMs: 500,
      maxIntervalMs: 5_000,
      describe: () => last,
    });
    c.failures.delete(label);
    return true;
  } catch (err) {
    const why = err instanceof CncfdemoError
      ? err.message
      : awsFailure(err, `delete ${label}`).message;
    c.failures.set(label, why);
    log.debug(`could not delete ${label}: ${why}`);
    return false;
  }
}

function of(inv: Inventory, type: ResourceType): Resource[] {
  return inv.filter((r) => r.type === type);
}

async function deleteAll(
  c: Ctx,
  inv: Inventory,
  type: ResourceType,
  del: (r: Resource) => Promise<unknown>,
): Promise<string> {
  const items = of(inv, type);
  const results = await Promise.all(items.map((r) => retryDelete(c, r, () => del(r))));
  const ok = results.filter(Boolean).length;
  return `${ok}/${items.length} ${type}`;
}

async function waitInstancesGone(c: Ctx, name: string): Promise<number> {
  let left: string[] = [];
  await pollUntil(async () => {
    const out = await c.aws.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${CLUSTER_TAG}`, Values: [name] },
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
    timeoutMs: Math.max(c.deadline - performance.now(), 1_000),
    intervalMs: 1_000,
    maxIntervalMs: 10_000,
    describe: () => `Instances of cluster "${name}" did not terminate in time: ${left.join(", ")}`,
  });
  return left.length;
}

/** The teardown steps of cluster `o.name`. */
export function awsTeardownSteps(o: AwsDeleteOptions): (Step | StepGroup)[] {
  const aws = o.clients;
  let inv: Inventory = [];
  const failures = new Map<string, string>();
  let deadline = 0;
  const ctxOf = (progress: (m: string) => void): Ctx => ({ aws, deadline, failures, progress });
  const mk = (name: string, doing: string, run: Step["run"]) =>
    awsStep(name, doing, aws.region, run);

  return [
    mk(`Inventory of cluster "${o.name}"`, "list the cluster's resources", async () => {
      deadline = performance.now() + o.timeoutMs;
      inv = await inventory(aws, o.name);
      return `${inv.length} resources: ${describeCounts(inv)}`;
    }),
    parallel("Stop the nodes, the events and Kubernetes' load balancers", [
      mk("Auto Scaling groups", "delete the Auto Scaling groups", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const detail = await deleteAll(
          c,
          inv,
          "autoscaling-group",
          (r) =>
            aws.asg.send(
              new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: r.id, ForceDelete: true }),
            ),
        );
        const names = of(inv, "autoscaling-group").map((r) => r.id);
        if (names.length) {
          await pollUntil(async () => {
            const out = await aws.asg.send(
              new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names }),
            );
            const left = out.AutoScalingGroups ?? [];
            if (left.length) ctx.progress(`${left.length} groups still deleting`);
            return left.length === 0;
          }, {
            timeoutMs: Math.max(deadline - performance.now(), 1_000),
            intervalMs: 1_000,
            maxIntervalMs: 10_000,
            describe: () => `Auto Scaling groups ${names.join(", ")} were not deleted in time`,
          });
        }
        return detail;
      }),
      mk("EventBridge rule", "delete the EventBridge rule", async (ctx) => {
        const c = ctxOf(ctx.progress);
        return await deleteAll(c, inv, "eventbridge-rule", async (r) => {
          const t = await aws.events.send(new ListTargetsByRuleCommand({ Rule: r.id }));
          const ids = (t.Targets ?? []).map((x) => x.Id!);
          if (ids.length) await aws.events.send(new RemoveTargetsCommand({ Rule: r.id, Ids: ids }));
          await aws.events.send(new DeleteRuleCommand({ Name: r.id }));
        });
      }),
      mk("Load balancers", "delete the cluster's load balancers", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const a = await deleteAll(
          c,
          inv,
          "load-balancer",
          (r) => aws.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: r.id })),
        );
        const b = await deleteAll(
          c,
          inv,
          "classic-load-balancer",
          (r) => aws.elb.send(new DeleteClassicLb({ LoadBalancerName: r.id })),
        );
        const t = await deleteAll(
          c,
          inv,
          "target-group",
          (r) => aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: r.id })),
        );
        return `${a}, ${b}, ${t}`;
      }),
    ]),
    mk("Instances", "terminate the cluster's instances", async (ctx) => {
      const c = ctxOf(ctx.progress);
      const ids = of(inv, "instance").map((r) => r.id);
      if (ids.length) {
        await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })).catch((err) => {
          if (!isGone(err)) throw err;
        });
      }
      await waitInstancesGone(c, o.name);
      return `${ids.length} terminated`;
    }),
    parallel("Delete what referenced the nodes", [
      mk("DNS Lambda and its log group", "delete the DNS Lambda", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const f = await deleteAll(
          c,
          inv,
          "lambda-function",
          (r) => aws.lambda.send(new DeleteFunctionCommand({ FunctionName: r.id })),
        );
        const l = await deleteAll(
          c,
          inv,
          "log-group",
          (r) => aws.logs.send(new DeleteLogGroupCommand({ logGroupName: r.id })),
        );
        return `${f}, ${l}`;
      }),
      mk(
        "Launch templates",
        "delete the launch templates",
        async (ctx) =>
          await deleteAll(
            ctxOf(ctx.progress),
            inv,
            "launch-template",
            (r) => aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: r.id })),
          ),
      ),
      mk(
        "Hosted zone",
        "delete the private hosted zone",
        async (ctx) =>
          await deleteAll(ctxOf(ctx.progress), inv, "hosted-zone", async (r) => {
            const rr = await aws.route53.send(
              new ListResourceRecordSetsCommand({ HostedZoneId: r.id }),
            );
            const changes = (rr.ResourceRecordSets ?? []).filter((x) =>
              x.Type !== "SOA" && x.Type !== "NS"
            )
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
          }),
      ),
      mk("IAM roles and instance profiles", "delete the IAM roles", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const p = await deleteAll(c, inv, "instance-profile", async (r) => {
          for (const role of (r.meta?.roles ?? "").split(",").filter(Boolean)) {
            await aws.iam.send(
              new RemoveRoleFromInstanceProfileCommand({
                InstanceProfileName: r.id,
                RoleName: role,
              }),
            ).catch((err) => {
              if (!isGone(err)) throw err;
            });
          }
          await aws.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: r.id }));
        });
        const roles = await deleteAll(c, inv, "iam-role", async (r) => {
          const inline = await aws.iam.send(new ListRolePoliciesCommand({ RoleName: r.id }));
          for (const pn of inline.PolicyNames ?? []) {
            await aws.iam.send(new DeleteRolePolicyCommand({ RoleName: r.id, PolicyName: pn }));
          }
          const attached = await aws.iam.send(
            new ListAttachedRolePoliciesCommand({ RoleName: r.id }),
          );
          for (const ap of attached.AttachedPolicies ?? []) {
            await aws.iam.send(
              new DetachRolePolicyCommand({ RoleName: r.id, PolicyArn: ap.PolicyArn! }),
            );
          }
          await aws.iam.send(new DeleteRoleCommand({ RoleName: r.id }));
        });
        return `${p}, ${roles}`;
      }),
      mk("SSM parameters", "delete the SSM parameters", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const names = of(inv, "ssm-parameter").map((r) => r.id);
        for (let i = 0; i < names.length; i += 10) {
          const batch = names.slice(i, i + 10);
          await retryDelete(c, { type: "ssm-parameter", id: batch.join(" ") }, async () => {
            const out = await aws.ssm.send(new DeleteParametersCommand({ Names: batch }));
            if (out.InvalidParameters?.length) {
              log.debug(`already gone: ${out.InvalidParameters.join(", ")}`);
            }
          });
        }
        return `${names.length} ssm-parameter`;
      }),
      mk("Elastic IP and volumes", "release the Elastic IP", async (ctx) => {
        const c = ctxOf(ctx.progress);
        const e = await deleteAll(c, inv, "elastic-ip", async (r) => {
          if (r.meta?.association) {
            await aws.ec2.send(
              new DisassociateAddressCommand({ AssociationId: r.meta.association }),
            )
              .catch((err) => {
                if (!isGone(err)) throw err;
              });
          }
          await aws.ec2.send(new ReleaseAddressCommand({ AllocationId: r.id }));
        });
        const v = await deleteAll(
          c,
          inv,
          "volume",
          (r) => aws.ec2.send(new DeleteVolumeCommand({ VolumeId: r.id })),
        );
        return `${e}, ${v}`;
      }),
    ]),
    mk("Network", "delete the network", async (ctx) => {
      const c = ctxOf(ctx.progress);
      const parts: string[] = [];
      parts.push(
        await deleteAll(c, inv, "network-interface", async (r) => {
          if (r.meta?.attachment) {
            await aws.ec2.send(
              new DetachNetworkInterfaceCommand({ AttachmentId: r.meta.attachment, Force: true }),
            )
              .catch((err) => {
                if (!isGone(err)) throw err;
              });
          }
          await aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: r.id }));
        }),
      );
      // Rules that name other groups keep those groups "in use": revoke every rule first.
      const sgIds = of(inv, "security-group").map((r) => r.id);
      if (sgIds.length) {
        const sgs = await aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: sgIds }))
          .catch(
            (err) => {
              if (isGone(err)) return { SecurityGroups: [] };
              throw err;
            },
          );
        for (const g of sgs.SecurityGroups ?? []) {
          if (g.IpPermissions?.length) {
            await aws.ec2.send(
              new RevokeSecurityGroupIngressCommand({
                GroupId: g.GroupId!,
                IpPermissions: g.IpPermissions,
              }),
            ).catch((err) => log.debug(`revoke ingress ${g.GroupId}: ${errorMessage(err)}`));
          }
          if (g.IpPermissionsEgress?.length) {
            await aws.ec2.send(
              new RevokeSecurityGroupEgressCommand({
                GroupId: g.GroupId!,
                IpPermissions: g.IpPermissionsEgress,
              }),
            ).catch((err) => log.debug(`revoke egress ${g.GroupId}: ${errorMessage(err)}`));
          }
        }
      }
      parts.push(
        await deleteAll(
          c,
          inv,
          "security-group",
          (r) => aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: r.id })),
        ),
      );
      parts.push(
        await deleteAll(c, inv, "route-table", async (r) => {
          for (const a of (r.meta?.associations ?? "").split(",").filter(Boolean)) {
            await aws.ec2.send(new DisassociateRouteTableCommand({ AssociationId: a })).catch(
              (err) => {
                if (!isGone(err)) throw err;
              },
            );
          }
          if (r.meta?.main !== "true") {
            await aws.ec2.send(new DeleteRouteTableCommand({ RouteTableId: r.id }));
          }
        }),
      );
      parts.push(
        await deleteAll(
          c,
          inv,
          "subnet",
          (r) => aws.ec2.send(new DeleteSubnetCommand({ SubnetId: r.id })),
        ),
      );
      parts.push(
        await deleteAll(c, inv, "internet-gateway", async (r) => {
          for (const vpc of (r.meta?.vpcs ?? "").split(",").filter(Boolean)) {
            await aws.ec2.send(
              new DetachInternetGatewayCommand({ InternetGatewayId: r.id, VpcId: vpc }),
            )
              .catch((err) => {
                if (!isGone(err) && awsErrorName(err) !== "Gateway.NotAttached") throw err;
              });
          }
          await aws.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: r.id }));
        }),
      );
      parts.push(
        await deleteAll(c, inv, "vpc", (r) => aws.ec2.send(new DeleteVpcCommand({ VpcId: r.id }))),
      );
      return parts.join(", ");
    }),
    mk(`Remove kube context aws-${o.name}`, "edit the kubeconfig", async () => {
      return (await removeKubeEntry(o.kubeconfig, `aws-${o.name}`))
        ? `removed from ${o.kubeconfig}`
        : "not present";
    }),
    mk("Verify nothing is left", "list the cluster's resources again", async () => {
      const left = await inventory(aws, o.name);
      if (left.length) {
        const items = left.map((r) => {
          const why = [...failures].find(([k]) => k === `${r.type} ${r.id}`)?.[1];
          return `${r.type} ${r.id}${why ? ` (${why})` : ""}`;
        });
        throw new CncfdemoError(
          `${left.length} resource${left.length === 1 ? "" : "s"} of cluster "${o.name}" ${
            left.length === 1 ? "is" : "are"
          } still there: ${items.join("; ")}; remove what depends on ${
            left.length === 1 ? "it" : "them"
          } and run the teardown again`,
        );
      }
      return `nothing left (${inv.length} deleted)`;
    }),
  ];
}
