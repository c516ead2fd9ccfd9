/** Action: the roles' inline policies (lib/aws/iam_policies.ts), put when they differ. */
import { GetRolePolicyCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { lambdaPolicy, nodePolicy, type PolicyContext } from "../iam_policies.ts";
import type { Role } from "../names.ts";
import type { AwsAction } from "./context.ts";
import { isNoSuchEntity, sameJson, Tally } from "./converge.ts";

export const rolePolicies: AwsAction = {
  name: "IAM policies",
  doing: "attach the IAM policies",
  async run(ctx) {
    const { aws, names: n, region } = ctx;
    const pc: PolicyContext = {
      names: n,
      account: ctx.need("account"),
      region,
      zoneId: ctx.need("zoneId"),
      partition: ctx.need("partition"),
    };
    const docs: Record<Role | "lambda", string> = {
      masters: JSON.stringify(nodePolicy("masters", pc)),
      minions: JSON.stringify(nodePolicy("minions", pc)),
      lambda: JSON.stringify(lambdaPolicy(pc)),
    };
    const t = new Tally();
    await Promise.all((Object.keys(docs) as (Role | "lambda")[]).map(async (r) => {
      let current: string | undefined;
      try {
        const got = await aws.iam.send(
          new GetRolePolicyCommand({ RoleName: n.role[r], PolicyName: "cncfdemo" }),
        );
        current = got.PolicyDocument ? decodeURIComponent(got.PolicyDocument) : undefined;
      } catch (err) {
        if (!isNoSuchEntity(err)) throw err;
      }
      if (current !== undefined && sameJson(current, docs[r])) return;
      await aws.iam.send(
        new PutRolePolicyCommand({
          RoleName: n.role[r],
          PolicyName: "cncfdemo",
          PolicyDocument: docs[r],
        }),
      );
      if (current === undefined) t.created++;
      else t.updated++;
    }));
    return t.toString();
  },
};
