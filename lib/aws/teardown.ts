/**
 * The steps of `teardown --provider aws`: inventory the cluster by tag (in its region only), delete
 * in dependency order — a list of stages over the per-type deleters of lib/aws/deleters.ts (groups
 * and Kubernetes' load balancers, then instances, then what referenced them, then the network from
 * the leaves to the VPC) — retrying deletes that fail on dependencies until the task's deadline,
 * then inventory again and fail, naming each leftover, when anything is still there. The order is
 * enforced here rather than trusted to AWS errors (moto, for one, does not raise them for subnets
 * with instances or VPCs with a gateway attached).
 */
import { ListRolesCommand } from "@aws-sdk/client-iam";
import { parse } from "yaml";
import { CncfdemoError, errorMessage } from "../errors.ts";
import { removeKubeEntry } from "../kube/kubeconfig.ts";
import { log } from "../log.ts";
import { parallel, type Step, type StepGroup } from "../steps.ts";
import { type Deadline, pollUntil } from "../wait.ts";
import { awsErrorName, awsFailure, awsStep } from "./aws_error.ts";
import type { AwsClients } from "./clients.ts";
import { type DeleteContext, deleterOf, isGone } from "./deleters.ts";
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
  /** The task's deadline: deletes blocked by dependencies are retried until then. */
  deadline: Deadline;
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

/** A step deleting some types, one type after the other. */
interface Stage {
  name: string;
  doing: string;
  types: readonly ResourceType[];
}

/** The deletes in dependency order: stages one after the other, those in a group at once. */
const STAGES: readonly (Stage | { name: string; parallel: readonly Stage[] })[] = [
  {
    name: "Stop the nodes, the events and Kubernetes' load balancers",
    parallel: [
      {
        name: "Auto Scaling groups",
        doing: "delete the Auto Scaling groups",
        types: ["autoscaling-group"],
      },
      {
        name: "EventBridge rule",
        doing: "delete the EventBridge rule",
        types: ["eventbridge-rule"],
      },
      {
        name: "Load balancers",
        doing: "delete the cluster's load balancers",
        types: ["load-balancer", "classic-load-balancer", "target-group"],
      },
    ],
  },
  { name: "Instances", doing: "terminate the cluster's instances", types: ["instance"] },
  {
    name: "Delete what referenced the nodes",
    parallel: [
      {
        name: "DNS Lambda and its log group",
        doing: "delete the DNS Lambda",
        types: ["lambda-function", "log-group"],
      },
      {
        name: "Launch templates",
        doing: "delete the launch templates",
        types: ["launch-template"],
      },
      { name: "Hosted zone", doing: "delete the private hosted zone", types: ["hosted-zone"] },
      {
        name: "IAM roles and instance profiles",
        doing: "delete the IAM roles",
        types: ["instance-profile", "iam-role"],
      },
      { name: "SSM parameters", doing: "delete the SSM parameters", types: ["ssm-parameter"] },
      {
        name: "Elastic IP and volumes",
        doing: "release the Elastic IP",
        types: ["elastic-ip", "volume"],
      },
    ],
  },
  {
    name: "Network",
    doing: "delete the network",
    types: [
      "network-interface",
      "security-group",
      "route-table",
      "subnet",
      "internet-gateway",
      "vpc",
    ],
  },
];

/** Why resources could not be deleted, by `<type> <id>`. */
type Failures = Map<string, string>;

/**
 * Runs `del` until it succeeds, the resource is gone, or the deadline passes while it fails on
 * dependencies (then the failure is recorded and the teardown goes on with the rest).
 */
async function retryDelete(
  c: DeleteContext,
  failures: Failures,
  r: Resource,
  del: () => Promise<unknown>,
): Promise<boolean> {
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
    }, { deadline: c.deadline, intervalMs: 500, maxIntervalMs: 5_000, describe: () => last });
    failures.delete(label);
    return true;
  } catch (err) {
    const why = err instanceof CncfdemoError
      ? err.message
      : awsFailure(err, `delete ${label}`).message;
    failures.set(label, why);
    log.debug(`could not delete ${label}: ${why}`);
    return false;
  }
}

/** Deletes every resource of `type` in `inv`: `2/2 subnet`. */
async function deleteType(
  c: DeleteContext,
  failures: Failures,
  inv: Inventory,
  type: ResourceType,
): Promise<string> {
  const d = deleterOf(type);
  const items = inv.filter((r) => r.type === type);
  await d.prepare?.(c, items);
  const results = await Promise.all(
    items.map((r) => retryDelete(c, failures, r, () => d.delete(c.aws, r))),
  );
  await d.settle?.(c, items);
  return `${results.filter(Boolean).length}/${items.length} ${type}`;
}

/** The server of context `name` in the kubeconfig file at `path`, if it has that context. */
async function contextServer(path: string, name: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const doc = (parse(text) ?? {}) as {
    contexts?: { name?: string; context?: { cluster?: string } }[];
    clusters?: { name?: string; cluster?: { server?: string } }[];
  };
  const cluster = doc.contexts?.find((c) => c.name === name)?.context?.cluster;
  return doc.clusters?.find((c) => c.name === cluster)?.cluster?.server;
}

/** Roles made before IAM names carried the region (path `/cncfdemo/<name>/`): left, and named. */
async function legacyRoles(aws: AwsClients, name: string): Promise<string[]> {
  const path = `/cncfdemo/${name}/`;
  const out = await aws.iam.send(new ListRolesCommand({ PathPrefix: path }));
  return (out.Roles ?? []).filter((r) => r.Path === path).map((r) => r.RoleName!);
}

/** The teardown steps of cluster `o.name`. */
export function awsTeardownSteps(o: AwsDeleteOptions): (Step | StepGroup)[] {
  const aws = o.clients;
  let inv: Inventory = [];
  const failures: Failures = new Map();
  const mk = (name: string, doing: string, run: Step["run"]) =>
    awsStep(name, doing, aws.region, run);
  const stageStep = (s: Stage) =>
    mk(s.name, s.doing, async (ctx) => {
      const c: DeleteContext = { aws, name: o.name, deadline: o.deadline, progress: ctx.progress };
      const parts: string[] = [];
      for (const type of s.types) parts.push(await deleteType(c, failures, inv, type));
      return parts.join(", ");
    });

  return [
    mk(`Inventory of cluster "${o.name}"`, "list the cluster's resources", async () => {
      inv = await inventory(aws, o.name);
      return `${inv.length} resources in ${aws.region}: ${describeCounts(inv)}`;
    }),
    ...STAGES.map((s) =>
      "parallel" in s ? parallel(s.name, s.parallel.map(stageStep)) : stageStep(s)
    ),
    mk(`Remove kube context aws-${o.name}`, "edit the kubeconfig", async () => {
      // The same name in another region has the same context name: leave one that points there.
      const ip = inv.find((r) => r.type === "elastic-ip")?.meta?.ip;
      const server = await contextServer(o.kubeconfig, `aws-${o.name}`);
      if (ip && server && server !== `https://${ip}:6443`) {
        return `left: it points at ${server}, not at this cluster (${ip})`;
      }
      return (await removeKubeEntry(o.kubeconfig, `aws-${o.name}`))
        ? `removed from ${o.kubeconfig}`
        : "not present";
    }),
    mk("Verify nothing is left", "list the cluster's resources again", async (ctx) => {
      const legacy = await legacyRoles(aws, o.name);
      if (legacy.length) {
        ctx.note(
          `left IAM roles from before names carried the region (path /cncfdemo/${o.name}/): ${
            legacy.join(", ")
          }; they may serve "${o.name}" in another region: delete them by hand once none is left`,
        );
      }
      const left = await inventory(aws, o.name);
      if (left.length) {
        const items = left.map((r) => {
          const why = failures.get(`${r.type} ${r.id}`);
          return `${r.type} ${r.id}${why ? ` (${why})` : ""}`;
        });
        throw new CncfdemoError(
          `${left.length} resource${
            left.length === 1 ? "" : "s"
          } of cluster "${o.name}" in ${aws.region} ${
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
