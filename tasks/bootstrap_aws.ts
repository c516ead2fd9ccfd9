/**
 * bootstrap:aws — create (or converge) a kubeadm cluster on AWS: VPC, subnets in two zones,
 * internet gateway, security groups, IAM roles, the private zone `<name>.k8s` with its DNS Lambda,
 * launch templates and the masters/minions Auto Scaling groups, all tagged
 * `KubernetesCluster=<name>`. Then waits for the API server and merges the context `aws-<name>`.
 * Re-running converges; an interrupted run is completed by the next. Uses the standard AWS
 * configuration (credential chain, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).
 * Test hook: CNCFDEMO_FAIL_AFTER_STEP=<step name> fails the run right after that step.
 * Writes the run's timeline as `<results-dir>/<id>.json` (schema cncfdemo.bootstrap/v1).
 *
 * Arguments: --name NAME, --region REGION, --masters 1, --minions N, --instance-type TYPE,
 *            --image-id AMI, --api-cidr CIDR (required), --ssh-cidr CIDR, --no-wait, --dry-run,
 *            --timeout DURATION, --kubeconfig FILE, --results-dir DIR
 * Example:   deno task bootstrap:aws --region eu-west-1 --api-cidr 203.0.113.7/32 --minions 3
 */
import { cidrFlag } from "../lib/cidr.ts";
import { checkAwsAccess, regionFlag, resolveRegion } from "../lib/aws/flags.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { isVerbose, log } from "../lib/log.ts";
import { clusterNameFlag } from "../lib/providers/sim_flags.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";
import { runSteps, type StepRecord } from "../lib/steps.ts";
import { deadline } from "../lib/wait.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "bootstrap:aws",
  summary:
    "Create or converge a kubeadm cluster on AWS (Auto Scaling groups, Route 53 dynamic DNS), tagged KubernetesCluster=<name>.",
  examples: [
    "deno task bootstrap:aws --region eu-west-1 --api-cidr 203.0.113.7/32",
    "deno task bootstrap:aws --name demo --minions 5 --api-cidr 203.0.113.0/24 --ssh-cidr 203.0.113.7/32",
    "deno task bootstrap:aws --api-cidr 203.0.113.7/32 --dry-run",
  ],
};

export const flags = {
  name: clusterNameFlag,
  region: regionFlag,
  masters: flag.int("Control-plane instances (one: HA control planes are not set up yet)", {
    min: 1,
    max: 1,
    default: 1,
  }),
  minions: flag.int("Worker instances", { min: 0, max: 200, default: 3 }),
  "instance-type": flag.string("EC2 instance type of the nodes", {
    default: "t3.medium",
    placeholder: "TYPE",
    validate: (v) => /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v) ? undefined : "an instance type",
    expected: "an EC2 instance type like t3.medium",
  }),
  "image-id": flag.string("Node image (default: the newest image made by deno task bake)", {
    placeholder: "AMI",
    validate: (v) => /^ami-[0-9a-f]{8,17}$/.test(v) ? undefined : "an AMI id",
    expected: "an AMI id like ami-0123456789abcdef0",
  }),
  "api-cidr": cidrFlag("Who may reach the API server on port 6443 (required), e.g. your IP/32"),
  "ssh-cidr": cidrFlag("Who may reach SSH on port 22 (default: SSH closed)"),
  "no-wait": flag.boolean("Stop once the Auto Scaling groups exist (no wait, no kube context)"),
  "dry-run": flag.boolean("Print the plan and exit: no AWS call is made"),
  timeout: flag.duration(
    "Deadline of the whole run, shared by its waits (DNS record, kubeconfig, API server, add-ons)",
    { default: "20m" },
  ),
  kubeconfig: flag.string(
    "Kubeconfig to merge the aws-<name> context into (default: $KUBECONFIG's first file, else ~/.kube/config)",
    { placeholder: "FILE" },
  ),
  "results-dir": resultsDirFlag("the bootstrap's <id>.json record"),
  ...uiFlags,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  if (!o.apiCidr) {
    throw new UsageError(
      "Missing --api-cidr: say who may reach the API server, e.g. --api-cidr 203.0.113.7/32 (your public address)",
    );
  }
  if (o.apiCidr === "0.0.0.0/0") {
    log.warn("--api-cidr 0.0.0.0/0 opens the API server port to the whole internet");
  }
  const region = await resolveRegion(o.region);
  // The AWS SDK, the Kubernetes client and the records load now that the input is good.
  const [{ awsPlan }, { defaultKubeconfigPath }] = await Promise.all([
    import("../lib/aws/plan.ts"),
    import("../lib/kube/client.ts"),
  ]);
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  const options = {
    name: o.name,
    masters: o.masters,
    minions: o.minions,
    instanceType: o.instanceType,
    imageId: o.imageId,
    apiCidr: o.apiCidr,
    sshCidr: o.sshCidr,
    wait: !o.noWait,
    deadline: deadline(o.timeout),
    kubeconfig,
    failAfterStep: Deno.env.get("CNCFDEMO_FAIL_AFTER_STEP") || undefined,
  };
  if (o.dryRun) {
    for (const line of awsPlan(options, region)) log.out(line);
    return;
  }
  const [{ awsBootstrapSteps }, { awsClients }, { assertKubeconfigWritable }, records] =
    await Promise.all([
      import("../lib/aws/bootstrap.ts"),
      import("../lib/aws/clients.ts"),
      import("../lib/kube/kubeconfig.ts"),
      import("../lib/report/records.ts"),
    ]);
  const { awsExisted, bootstrapFacts, recordBootstrap } = records;
  if (options.wait) await assertKubeconfigWritable(kubeconfig);
  const aws = awsClients({ region });
  const started = performance.now();
  await checkAwsAccess(aws); // one line when credentials or the endpoint are missing
  let timeline: StepRecord[] = [];
  try {
    timeline = await runSteps(awsBootstrapSteps({ ...options, clients: aws }));
  } finally {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log.info(`${aws.calls.summary()} in ${secs}s`);
    if (isVerbose()) { for (const line of aws.calls.details()) log.info(`  ${line}`); }
  }
  const record = await recordBootstrap(o.resultsDir, {
    command: command.name,
    timeline,
    info: { name: o.name, context: options.wait ? `aws-${o.name}` : undefined },
    existed: awsExisted(timeline),
    endpoint: Deno.env.get("AWS_ENDPOINT_URL") || null,
    apiCalls: aws.calls.total,
    ...bootstrapFacts("aws", { ...options, region }),
  });
  summaryLines(
    `Record: ${record}`,
    ...(options.wait
      ? [
        `Cluster "${o.name}" is ready; context aws-${o.name} is current in ${kubeconfig}.`,
        `  kubectl --context aws-${o.name} get nodes`,
      ]
      : [`Cluster "${o.name}" is being created in ${region} (--no-wait).`]),
    `  deno task teardown --provider aws --name ${o.name} --region ${region}`,
  );
}

if (import.meta.main) runMain(withUi(command, main));
