/**
 * Action: the private hosted zone `<name>.k8s` of the cluster's VPC. Route 53 is global: the zone
 * is this cluster's in this region by its tags (cluster and region) or, before they are added
 * (CreateHostedZone takes no tags), by its comment naming both — never by its name alone, which
 * the same cluster name in another region shares.
 */
import { ChangeTagsForResourceCommand, CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { bareZoneId, clusterZones } from "../inventory.ts";
import type { AwsAction } from "./context.ts";

export const hostedZone: AwsAction = {
  name: (ctx) => `Private hosted zone ${ctx.names.zone}`,
  doing: "create the private hosted zone",
  async run(ctx) {
    const { aws, names: n, options: o, region } = ctx;
    const vpcId = ctx.need("vpcId");
    const [hit] = await clusterZones(aws, n);
    let detail = "exists";
    let zoneId = hit?.id;
    if (!zoneId) {
      const made = await aws.route53.send(
        new CreateHostedZoneCommand({
          Name: n.zone,
          CallerReference: `cncfdemo-${o.name}-${vpcId}`,
          HostedZoneConfig: { Comment: n.zoneComment, PrivateZone: true },
          VPC: { VPCRegion: region as never, VPCId: vpcId },
        }),
      );
      zoneId = bareZoneId(made.HostedZone!.Id!);
      detail = "created";
    }
    ctx.facts.zoneId = zoneId;
    // Tagged after creation: a run interrupted in between is completed here.
    if (!hit?.tagged) {
      await aws.route53.send(
        new ChangeTagsForResourceCommand({
          ResourceType: "hostedzone",
          ResourceId: zoneId,
          AddTags: ctx.globalTags(),
        }),
      );
      if (detail === "exists") detail = "tagged";
    }
    return `${zoneId} ${detail}`;
  },
};
