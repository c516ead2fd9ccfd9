/**
 * `bootstrap:aws` as a list of actions (kind's `actionsToRun`), one file each in
 * lib/aws/actions/, over one typed context ({@link AwsContext}). Each action finds its resources
 * by the tag `KubernetesCluster=<name>` (global ones, IAM and Route 53, by tags that include the
 * region), creates what is missing already tagged, converges what differs and reports "created",
 * "updated" or "exists". Independent actions run in parallel; a run interrupted anywhere is
 * completed by the next one. Nothing is kept locally. Every wait shares the task's one deadline.
 *
 * Order: check access (creates nothing) → VPC ∥ IAM roles ∥ CA and token ∥ Elastic IP ∥ log group
 * → subnets ∥ internet gateway ∥ security groups ∥ hosted zone ∥ kubeadm configuration → routes ∥
 * IAM policies → DNS Lambda + EventBridge rule ∥ launch templates → Auto Scaling groups → (waits,
 * add-ons).
 */
import { CncfdemoError } from "../errors.ts";
import { parallel, type Step, step, type StepGroup } from "../steps.ts";
import { awsAddonSteps } from "./addons.ts";
import { awsStep } from "./aws_error.ts";
import { apiAddress } from "./actions/api_address.ts";
import { autoScalingGroups } from "./actions/auto_scaling_groups.ts";
import { caAndToken } from "./actions/ca_and_token.ts";
import { checkAccess } from "./actions/check_access.ts";
import {
  type AwsAction,
  AwsContext,
  type AwsCreateOptions,
  type BootstrapInfo,
} from "./actions/context.ts";
import { dnsLambda } from "./actions/dns_lambda.ts";
import { hostedZone } from "./actions/hosted_zone.ts";
import { iamRoles } from "./actions/iam_roles.ts";
import { internetGateway } from "./actions/internet_gateway.ts";
import { kubeadmParams } from "./actions/kubeadm_params.ts";
import { launchTemplates } from "./actions/launch_templates.ts";
import { logGroup } from "./actions/log_group.ts";
import { rolePolicies } from "./actions/role_policies.ts";
import { routes } from "./actions/routes.ts";
import { securityGroups } from "./actions/security_groups.ts";
import { subnets } from "./actions/subnets.ts";
import { vpc } from "./actions/vpc.ts";
import { contextOf, waitApiServer } from "./actions/wait_api_server.ts";
import { waitAdminKubeconfig } from "./actions/wait_admin_kubeconfig.ts";
import { waitApiRecord } from "./actions/wait_api_record.ts";

export type { AwsCreateOptions };

/** Actions, and groups of actions that run at the same time. */
export type ActionList = readonly (AwsAction | { name: string; parallel: readonly AwsAction[] })[];

/** The actions a bootstrap with options `o` runs, in order. */
export function actionsToRun(o: Pick<AwsCreateOptions, "wait">): ActionList {
  return [
    checkAccess,
    { name: "Network and identity", parallel: [vpc, iamRoles, caAndToken, apiAddress, logGroup] },
    {
      name: "VPC resources, zone and kubeadm configuration",
      parallel: [subnets, internetGateway, securityGroups, hostedZone, kubeadmParams],
    },
    { name: "Routes and policies", parallel: [routes, rolePolicies] },
    { name: "DNS Lambda and launch templates", parallel: [dnsLambda, launchTemplates] },
    autoScalingGroups,
    ...(o.wait ? [waitApiRecord, waitAdminKubeconfig, waitApiServer] : []),
  ];
}

/** An action as a step: AWS errors in one line, and the fault-injection test hook. */
function actionStep(ctx: AwsContext, a: AwsAction): Step {
  const name = typeof a.name === "function" ? a.name(ctx) : a.name;
  const inner = awsStep(name, a.doing, ctx.region, (s) => a.run(ctx, s));
  return step(name, async (s) => {
    const detail = await inner.run(s);
    if (ctx.options.failAfterStep === name) {
      throw new CncfdemoError(`Injected failure after step "${name}" (CNCFDEMO_FAIL_AFTER_STEP)`);
    }
    return detail;
  });
}

/** The bootstrap steps of cluster `o.name`. `info` gets the server URL and context once known. */
export function awsBootstrapSteps(
  o: AwsCreateOptions,
  info: BootstrapInfo = {},
): (Step | StepGroup)[] {
  const ctx = new AwsContext(o, info);
  const steps: (Step | StepGroup)[] = actionsToRun(o).map((a) =>
    "parallel" in a
      ? parallel(a.name, a.parallel.map((x) => actionStep(ctx, x)))
      : actionStep(ctx, a)
  );
  if (!o.wait) return steps;
  info.context = contextOf(o.name);
  if (o.addons !== false) {
    steps.push(
      ...awsAddonSteps({
        kubeconfig: o.kubeconfig,
        context: info.context,
        clusterName: o.name,
        vpcCidr: ctx.names.vpcCidr,
        ca: () => ({ cert: ctx.need("caCert"), key: ctx.need("caKey") }),
        deadline: o.deadline,
      }),
    );
  }
  return steps;
}
