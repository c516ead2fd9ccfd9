/**
 * The same cluster name in two regions, against one moto_server (IAM and Route 53 are global
 * there as on AWS): both bootstraps succeed with IAM roles, instance profiles and hosted zones of
 * their own, the second does not touch the first's role policies, and each teardown leaves the
 * other region's cluster — its whole inventory, and the kube context pointing at it — as it was.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { stringify } from "yaml";
import { CreateRoleCommand, DeleteRoleCommand, GetRolePolicyCommand } from "@aws-sdk/client-iam";
import type { AwsClients } from "../lib/aws/clients.ts";
import { countByType, inventory } from "../lib/aws/inventory.ts";
import { clusterNames } from "../lib/aws/names.ts";
import { kubeContexts } from "../lib/kube/kubeconfig.ts";
import { census, empty } from "./support/aws_census.ts";
import { sandbox } from "./support/env.ts";
import { moto } from "./support/moto.ts";

const NAME = "twin";
const REGIONS = ["us-east-1", "eu-west-1"] as const;

async function ids(aws: AwsClients): Promise<string[]> {
  return (await inventory(aws, NAME)).map((r) => `${r.type}/${r.id}`).sort();
}

async function policyOf(aws: AwsClients, region: string): Promise<string> {
  const got = await aws.iam.send(
    new GetRolePolicyCommand({
      RoleName: clusterNames(NAME, region).role.masters,
      PolicyName: "cncfdemo",
    }),
  );
  return decodeURIComponent(got.PolicyDocument ?? "");
}

Deno.test("the same cluster name in two regions: both bootstraps succeed, each teardown leaves the other cluster intact", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  const aws = Object.fromEntries(REGIONS.map((r) => [r, m.clients(r)])) as Record<
    typeof REGIONS[number],
    AwsClients
  >;
  const teardown = (region: string) =>
    sb.task("teardown.ts", ["--provider", "aws", "--name", NAME, "--region", region]);
  try {
    for (const region of REGIONS) {
      const up = await sb.task("bootstrap_aws.ts", [
        "--name",
        NAME,
        "--region",
        region,
        "--api-cidr",
        "198.51.100.7/32",
        "--image-id",
        await m.image(region),
        "--minions",
        "1",
        "--no-wait",
      ]);
      assert.equal(up.code, 0, up.stderr);
    }
    const [us, eu] = [aws["us-east-1"], aws["eu-west-1"]];
    for (const region of REGIONS) {
      const byType = countByType(await inventory(aws[region], NAME));
      assert.equal(byType["iam-role"], 3, region);
      assert.equal(byType["instance-profile"], 2, region);
      assert.equal(byType["hosted-zone"], 1, region);
      assert.equal(byType.vpc, 1, region);
      assert.equal(byType["autoscaling-group"], 2, region);
    }
    const usIds = await ids(us);
    const euIds = await ids(eu);
    const global = (xs: string[]) =>
      xs.filter((x) => /^(iam-role|instance-profile|hosted-zone)\//.test(x));
    assert.equal(global(usIds).filter((x) => global(euIds).includes(x)).length, 0, "shared");
    // The second bootstrap did not rewrite the first's policies: each names its own region.
    assert.match(await policyOf(us, "us-east-1"), /:us-east-1:/);
    assert.doesNotMatch(await policyOf(us, "us-east-1"), /eu-west-1/);
    assert.match(await policyOf(us, "eu-west-1"), /:eu-west-1:/);

    // The kube context aws-<name> of the eu-west-1 cluster (as a bootstrap that waited merges it).
    const euIp = (await inventory(eu, NAME)).find((r) => r.type === "elastic-ip")!.meta!.ip!;
    await Deno.mkdir(dirname(sb.kubeconfig), { recursive: true });
    await Deno.writeTextFile(
      sb.kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: `aws-${NAME}`, cluster: { server: `https://${euIp}:6443` } }],
        users: [{ name: `aws-${NAME}`, user: {} }],
        contexts: [{
          name: `aws-${NAME}`,
          context: { cluster: `aws-${NAME}`, user: `aws-${NAME}` },
        }],
        "current-context": `aws-${NAME}`,
      }),
    );

    // A role made before IAM names carried the region: whose it is cannot be told, so it stays.
    await us.iam.send(
      new CreateRoleCommand({
        RoleName: `cncfdemo-${NAME}-masters`,
        Path: `/cncfdemo/${NAME}/`,
        AssumeRolePolicyDocument: "{}",
        Tags: [{ Key: "KubernetesCluster", Value: NAME }],
      }),
    );

    const downUs = await teardown("us-east-1");
    assert.equal(downUs.code, 0, downUs.stderr);
    assert.match(
      downUs.stderr,
      new RegExp(`left IAM roles from before .*: cncfdemo-${NAME}-masters;`),
    );
    assert.match(downUs.stderr, new RegExp(`left: it points at https://${euIp}:6443`));
    assert.deepEqual(await kubeContexts(sb.kubeconfig), [`aws-${NAME}`]);
    assert.deepEqual(await ids(us), []);
    assert.deepEqual(await ids(eu), euIds, "the eu-west-1 cluster after the us-east-1 teardown");
    assert.deepEqual(await census(us), {
      ...empty(),
      ...globalCounts(euIds),
      "iam-role": globalCounts(euIds)["iam-role"]! + 1,
    });
    await us.iam.send(new DeleteRoleCommand({ RoleName: `cncfdemo-${NAME}-masters` }));

    const downEu = await teardown("eu-west-1");
    assert.equal(downEu.code, 0, downEu.stderr);
    assert.deepEqual(await kubeContexts(sb.kubeconfig), []);
    assert.deepEqual(await ids(eu), []);
    assert.deepEqual(await census(us), empty());
    assert.deepEqual(await census(eu), empty());
  } finally {
    await sb.cleanup();
  }
});

/** The counts of the global types (IAM, Route 53) among inventory ids: what another region sees. */
function globalCounts(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ["iam-role", "instance-profile", "hosted-zone"]) {
    out[t] = xs.filter((x) => x.startsWith(`${t}/`)).length;
  }
  return out;
}
