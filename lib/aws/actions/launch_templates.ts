/**
 * Action: the masters' and minions' launch templates (image, type, instance profile, security
 * group, user data, IMDSv2). A changed specification becomes a new default version; the spec's
 * hash is kept in the tag `cncfdemo:spec`.
 */
import {
  type _InstanceType,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
  type RequestLaunchTemplateData,
} from "@aws-sdk/client-ec2";
import { clusterFilter, tagSpec, tagValue } from "../ec2_find.ts";
import { k8sClusterTag, type Role, ROLES } from "../names.ts";
import { userData } from "../user_data.ts";
import type { AwsAction, AwsContext, Facts } from "./context.ts";
import { Tally } from "./converge.ts";

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 32);
}

function templateData(ctx: AwsContext, r: Role): RequestLaunchTemplateData {
  const { names: n, options: o, region } = ctx;
  return {
    ImageId: ctx.need("imageId"),
    InstanceType: o.instanceType as _InstanceType,
    IamInstanceProfile: { Arn: ctx.need("profileArn")[r] },
    SecurityGroupIds: [ctx.need("sg")[r]],
    UserData: btoa(userData(r, { names: n, region, allocationId: ctx.need("allocationId") })),
    MetadataOptions: {
      HttpTokens: "required" as const,
      HttpEndpoint: "enabled" as const,
      HttpPutResponseHopLimit: 2,
    },
    TagSpecifications: (["instance", "volume", "network-interface"] as const).map((type) => ({
      ResourceType: type,
      Tags: ctx.tags({ Name: `${n.prefix}-${r}`, Role: r, [k8sClusterTag(o.name)]: "owned" }),
    })),
  };
}

export const launchTemplates: AwsAction = {
  name: "Launch templates",
  doing: "create the launch templates",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const found = await aws.ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [clusterFilter(o.name)] }),
    );
    const t = new Tally();
    const ids = {} as Facts["launchTemplateId"];
    await Promise.all(ROLES.map(async (r) => {
      const data = templateData(ctx, r);
      const spec = await sha256Hex(JSON.stringify(data));
      const lt = found.LaunchTemplates?.find((x) => x.LaunchTemplateName === n.launchTemplate[r]);
      if (!lt) {
        const made = await aws.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: n.launchTemplate[r],
            LaunchTemplateData: data,
            TagSpecifications: tagSpec("launch-template", o.name, {
              Role: r,
              "cncfdemo:spec": spec,
            }),
          }),
        );
        ids[r] = made.LaunchTemplate!.LaunchTemplateId!;
        t.created++;
        return;
      }
      const id = lt.LaunchTemplateId!;
      ids[r] = id;
      if (tagValue(lt.Tags, "cncfdemo:spec") === spec) return;
      const v = await aws.ec2.send(
        new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: data }),
      );
      await aws.ec2.send(
        new ModifyLaunchTemplateCommand({
          LaunchTemplateId: id,
          DefaultVersion: String(v.LaunchTemplateVersion!.VersionNumber!),
        }),
      );
      await aws.ec2.send(
        new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "cncfdemo:spec", Value: spec }] }),
      );
      t.updated++;
    }));
    ctx.facts.launchTemplateId = ids;
    return t.toString();
  },
};
