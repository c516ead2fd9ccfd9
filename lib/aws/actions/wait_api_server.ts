/**
 * Action (with --wait): wait until the API server answers /readyz on the Elastic IP, verified
 * against the cluster CA, then merge the context `aws-<name>` into the kubeconfig (current).
 */
import { mergeKubeEntry } from "../../kube/kubeconfig.ts";
import { log } from "../../log.ts";
import { pollUntil } from "../../wait.ts";
import { kubeEntryFrom } from "../admin_kubeconfig.ts";
import type { AwsAction } from "./context.ts";

export const contextOf = (name: string): string => `aws-${name}`;

export const waitApiServer: AwsAction = {
  name: (ctx) => `Wait for the API server and merge context ${contextOf(ctx.options.name)}`,
  doing: "reach the API server",
  async run(ctx, step) {
    const o = ctx.options;
    const context = contextOf(o.name);
    const entry = kubeEntryFrom(
      ctx.need("adminConf"),
      context,
      `https://${ctx.need("publicIp")}:6443`,
    );
    const client = Deno.createHttpClient({ caCerts: [atob(entry.certificateAuthorityData ?? "")] });
    try {
      await pollUntil(async () => {
        try {
          const res = await fetch(`${entry.server}/readyz`, {
            client,
            signal: AbortSignal.timeout(Math.min(5_000, Math.max(ctx.deadline.left(), 1))),
          });
          const body = await res.text();
          step.progress(`/readyz: ${res.status} ${body.slice(0, 60)}`);
          return res.ok;
        } catch (err) {
          step.progress(`/readyz: ${err instanceof Error ? err.message : err}`);
          return false;
        }
      }, {
        deadline: ctx.deadline,
        intervalMs: 2_000,
        maxIntervalMs: 10_000,
        describe: () =>
          `The API server at ${entry.server} did not become ready ${ctx.deadline.within}: is ${o.apiCidr} (--api-cidr) your address?`,
      });
    } finally {
      client.close();
    }
    await mergeKubeEntry(o.kubeconfig, entry, true);
    ctx.info.server = entry.server;
    log.debug(`merged ${context} into ${o.kubeconfig}`);
    return `${entry.server} ready; ${o.kubeconfig} (current context)`;
  },
};
