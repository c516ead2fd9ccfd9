/** Action: the masters' and minions' Auto Scaling groups, sized by --masters and --minions. */
import {
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { ROLES } from "../names.ts";
import type { AwsAction } from "./context.ts";
import { Tally } from "./converge.ts";

export const autoScalingGroups: AwsAction = {
  name: "Auto Scaling groups",
  doing: "create the Auto Scaling groups",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const subnetIds = ctx.need("subnetIds");
    const templates = ctx.need("launchTemplateId");
    const found = await aws.asg.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: ROLES.map((r) => n.group[r]),
      }),
    );
    const t = new Tally();
    const sizes: string[] = [];
    for (const r of ROLES) {
      const size = r === "masters" ? o.masters : o.minions;
      sizes.push(`${r} ${size}`);
      const g = found.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === n.group[r]);
      const asgTags = ctx.tags({ Role: r, Name: `${n.prefix}-${r}` }).map((tg) => ({
        ...tg,
        PropagateAtLaunch: true,
        ResourceId: n.group[r],
        ResourceType: "auto-scaling-group",
      }));
      const spec = {
        AutoScalingGroupName: n.group[r],
        LaunchTemplate: { LaunchTemplateId: templates[r], Version: "$Default" },
        MinSize: size,
        MaxSize: size,
        DesiredCapacity: size,
        VPCZoneIdentifier: subnetIds.join(","),
      };
      if (!g) {
        await aws.asg.send(new CreateAutoScalingGroupCommand({ ...spec, Tags: asgTags }));
        t.created++;
        continue;
      }
      const same = g.MinSize === size && g.MaxSize === size && g.DesiredCapacity === size &&
        g.LaunchTemplate?.LaunchTemplateId === templates[r] &&
        (g.VPCZoneIdentifier ?? "").split(",").sort().join(",") ===
          [...subnetIds].sort().join(",");
      if (!same) {
        await aws.asg.send(new UpdateAutoScalingGroupCommand(spec));
        t.updated++;
      }
      const haveTags = new Set((g.Tags ?? []).map((x) => `${x.Key}=${x.Value}`));
      if (asgTags.some((x) => !haveTags.has(`${x.Key}=${x.Value}`))) {
        await aws.asg.send(new CreateOrUpdateTagsCommand({ Tags: asgTags }));
        if (same) t.updated++;
      }
    }
    return `${sizes.join(", ")}: ${t}`;
  },
};
