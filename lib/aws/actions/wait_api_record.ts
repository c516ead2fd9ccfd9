/** Action (with --wait): wait for the DNS Lambda to write the masters' A record. */
import { ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { pollUntil } from "../../wait.ts";
import type { AwsAction } from "./context.ts";

export const waitApiRecord: AwsAction = {
  name: (ctx) => `Wait for ${ctx.names.apiHost}`,
  doing: "read the masters' DNS record",
  async run(ctx, step) {
    const { aws, names: n } = ctx;
    const zoneId = ctx.need("zoneId");
    const ips = await pollUntil(async () => {
      const rr = await aws.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          StartRecordName: `${n.apiHost}.`,
          StartRecordType: "A",
          MaxItems: 1,
        }),
      );
      const hit = rr.ResourceRecordSets?.find((r) => r.Name === `${n.apiHost}.` && r.Type === "A");
      step.progress(
        hit ? "found" : "no record yet (the DNS Lambda writes it when a master is InService)",
      );
      return hit?.ResourceRecords?.map((x) => x.Value!);
    }, {
      deadline: ctx.deadline,
      intervalMs: 2_000,
      maxIntervalMs: 15_000,
      describe: () =>
        `No A record ${n.apiHost} ${ctx.deadline.within}: check the masters group's instances and the ${n.function} logs`,
    });
    return ips.join(", ");
  },
};
