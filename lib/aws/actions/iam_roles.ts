/**
 * Action: the IAM roles (masters, minions, the DNS Lambda) and the nodes' instance profiles. IAM is
 * global: the names carry the region's code, the path is `/cncfdemo/<name>/<region>/`, and the
 * tags include the region, so the same cluster name in another region has roles of its own.
 */
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
} from "@aws-sdk/client-iam";
import { trustPolicy } from "../iam_policies.ts";
import type { Role } from "../names.ts";
import type { AwsAction, AwsContext, Facts } from "./context.ts";
import { isNoSuchEntity, Tally } from "./converge.ts";

async function ensureRole(ctx: AwsContext, r: Role | "lambda", t: Tally): Promise<string> {
  const { aws, names: n } = ctx;
  try {
    const got = await aws.iam.send(new GetRoleCommand({ RoleName: n.role[r] }));
    return got.Role!.Arn!;
  } catch (err) {
    if (!isNoSuchEntity(err)) throw err;
  }
  const made = await aws.iam.send(
    new CreateRoleCommand({
      RoleName: n.role[r],
      Path: n.iamPath,
      AssumeRolePolicyDocument: trustPolicy(
        r === "lambda" ? "lambda.amazonaws.com" : "ec2.amazonaws.com",
      ),
      Description: `cncfdemo cluster ${ctx.options.name} in ${ctx.region}: ${r}`,
      Tags: ctx.globalTags({ Role: r }),
    }),
  );
  t.created++;
  return made.Role!.Arn!;
}

async function ensureProfile(ctx: AwsContext, r: Role, t: Tally): Promise<string> {
  const { aws, names: n } = ctx;
  let arn: string;
  let roles: string[] = [];
  try {
    const got = await aws.iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: n.profile[r] }),
    );
    arn = got.InstanceProfile!.Arn!;
    roles = (got.InstanceProfile!.Roles ?? []).map((x) => x.RoleName!);
  } catch (err) {
    if (!isNoSuchEntity(err)) throw err;
    const made = await aws.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: n.profile[r],
        Path: n.iamPath,
        Tags: ctx.globalTags({ Role: r }),
      }),
    );
    arn = made.InstanceProfile!.Arn!;
    t.created++;
  }
  if (!roles.includes(n.role[r])) {
    await aws.iam.send(
      new AddRoleToInstanceProfileCommand({
        InstanceProfileName: n.profile[r],
        RoleName: n.role[r],
      }),
    );
    if (roles.length === 0 && t.created === 0) t.updated++;
  }
  return arn;
}

export const iamRoles: AwsAction = {
  name: "IAM roles and instance profiles",
  doing: "create the IAM roles",
  async run(ctx) {
    const t = new Tally();
    const roleArn = {} as Facts["roleArn"];
    const profileArn = {} as Facts["profileArn"];
    await Promise.all((["masters", "minions", "lambda"] as const).map(async (r) => {
      roleArn[r] = await ensureRole(ctx, r, t);
      if (r !== "lambda") profileArn[r] = await ensureProfile(ctx, r, t);
    }));
    ctx.facts.roleArn = roleArn;
    ctx.facts.profileArn = profileArn;
    return t.toString();
  },
};
