/**
 * Action: the DNS Lambda (lambda/dns.ts) that keeps `<role>.<name>.k8s` pointed at each group's
 * InService instances, and the EventBridge rule that invokes it on the groups' launches and
 * terminations. Code and configuration edited by hand are put back.
 */
import {
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetPolicyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { pollUntil } from "../../wait.ts";
import { awsErrorName } from "../aws_error.ts";
import { awsWaiter } from "../aws_wait.ts";
import { LAMBDA_HANDLER, LAMBDA_RUNTIME, lambdaPackage } from "../lambda_bundle.ts";
import { CLUSTER_TAG } from "../names.ts";
import type { AwsAction, AwsContext } from "./context.ts";
import { sameJson } from "./converge.ts";

/** Absent (ResourceNotFoundException) as undefined. */
async function orAbsent<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
    return undefined;
  }
}

/** Creates or converges the function; returns its ARN. */
async function ensureFunction(
  ctx: AwsContext,
  progress: (m: string) => void,
  parts: string[],
): Promise<string> {
  const { aws, names: n, options: o } = ctx;
  progress("bundling lambda/dns.ts");
  const pkg = await lambdaPackage();
  const env = {
    ZONE_ID: ctx.need("zoneId"),
    ZONE_NAME: n.zone,
    CLUSTER: o.name,
    GROUP_ROLES: JSON.stringify({ [n.group.masters]: "masters", [n.group.minions]: "minions" }),
  };
  const got = await orAbsent(aws.lambda.send(new GetFunctionCommand({ FunctionName: n.function })));
  if (!got) {
    progress("creating the function");
    const roleArn = ctx.need("roleArn").lambda;
    // A new role takes a few seconds to become assumable by Lambda: retry within the deadline.
    const made = await pollUntil(async () => {
      try {
        return await aws.lambda.send(
          new CreateFunctionCommand({
            FunctionName: n.function,
            Runtime: LAMBDA_RUNTIME,
            Handler: LAMBDA_HANDLER,
            Role: roleArn,
            Code: { ZipFile: pkg.zip },
            Description:
              `cncfdemo ${o.name}: keeps <role>.${n.zone} pointed at the Auto Scaling groups`,
            Timeout: 30,
            MemorySize: 256,
            Environment: { Variables: env },
            Tags: { [CLUSTER_TAG]: o.name },
          }),
        );
      } catch (err) {
        if (awsErrorName(err) === "InvalidParameterValueException" && /role/i.test(String(err))) {
          return undefined;
        }
        throw err;
      }
    }, {
      deadline: ctx.deadline.cap(120_000),
      intervalMs: 1_000,
      maxIntervalMs: 5_000,
      describe: () => `Lambda could not assume the new role ${roleArn} in time`,
    });
    parts.push("created the function");
    return made.FunctionArn!;
  }
  const c = got.Configuration!;
  if (c.CodeSha256 !== pkg.sha256) {
    await aws.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: n.function, ZipFile: pkg.zip }),
    );
    parts.push("updated the code");
    // Lambda refuses another update while this one is in progress.
    await awsWaiter(waitUntilFunctionUpdatedV2, aws.lambda, { FunctionName: n.function }, {
      deadline: ctx.deadline.cap(120_000),
      describe: () => `The code update of ${n.function} did not finish in time`,
      failed: () => `Updating the code of ${n.function} failed`,
    });
  }
  if (JSON.stringify(c.Environment?.Variables ?? {}) !== JSON.stringify(env)) {
    await aws.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: n.function,
        Environment: { Variables: env },
      }),
    );
    parts.push("updated the configuration");
  }
  return c.FunctionArn!;
}

/** Creates or converges the rule, its target and the permission to invoke the function. */
async function ensureRule(ctx: AwsContext, functionArn: string, parts: string[]): Promise<void> {
  const { aws, names: n, options: o } = ctx;
  const pattern = JSON.stringify({
    source: ["aws.autoscaling"],
    "detail-type": ["EC2 Instance Launch Successful", "EC2 Instance Terminate Successful"],
    detail: { AutoScalingGroupName: [n.group.masters, n.group.minions] },
  });
  const rule = await orAbsent(aws.events.send(new DescribeRuleCommand({ Name: n.rule })));
  let ruleArn = rule?.Arn;
  if (!ruleArn || !sameJson(rule?.EventPattern ?? "{}", pattern)) {
    const put = await aws.events.send(
      new PutRuleCommand({
        Name: n.rule,
        EventPattern: pattern,
        State: "ENABLED",
        Description: `cncfdemo ${o.name}: Auto Scaling launch/terminate → DNS Lambda`,
        ...(ruleArn ? {} : { Tags: ctx.tags() }),
      }),
    );
    parts.push(ruleArn ? "updated the rule" : "created the rule");
    ruleArn = put.RuleArn!;
  }
  const targets = await aws.events.send(new ListTargetsByRuleCommand({ Rule: n.rule }));
  if (!targets.Targets?.some((x) => x.Id === "dns-lambda" && x.Arn === functionArn)) {
    await aws.events.send(
      new PutTargetsCommand({ Rule: n.rule, Targets: [{ Id: "dns-lambda", Arn: functionArn }] }),
    );
    parts.push("added the target");
  }
  const policy = await orAbsent(
    aws.lambda.send(new GetPolicyCommand({ FunctionName: n.function })),
  );
  if (!(policy?.Policy ?? "").includes("cncfdemo-events")) {
    await aws.lambda.send(
      new AddPermissionCommand({
        FunctionName: n.function,
        StatementId: "cncfdemo-events",
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        SourceArn: ruleArn,
      }),
    );
    parts.push("allowed EventBridge to invoke it");
  }
}

export const dnsLambda: AwsAction = {
  name: "DNS Lambda and EventBridge rule",
  doing: "deploy the DNS Lambda",
  async run(ctx, step) {
    const parts: string[] = [];
    const arn = await ensureFunction(ctx, step.progress, parts);
    ctx.facts.functionArn = arn;
    await ensureRule(ctx, arn, parts);
    return parts.length ? parts.join(", ") : "exists";
  },
};
