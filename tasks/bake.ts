/**
 * bake — build what the clusters run: `--target ami` bakes the node machine image on AWS from
 * images/node/ (a builder instance runs the recipe and powers off; the image is created, waited for
 * and tagged; the builder is terminated, also on failure); `--target images` builds the container
 * images in images/*\/Dockerfile with docker or podman (and pushes them with --registry).
 *
 * Arguments: --target ami|images, --region REGION, --base-image AMI, --instance-type TYPE,
 *            --registry HOST[/PATH], --timeout DURATION
 * Example:   deno task bake --target ami --region eu-west-1
 *            deno task bake --target images --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com
 */
import { bakeAmiSteps, type BakeState, terminateBuilderStep } from "../lib/aws/bake_ami.ts";
import { awsClients } from "../lib/aws/clients.ts";
import { checkAwsAccess, regionFlag, resolveRegion } from "../lib/aws/flags.ts";
import { buildImage, findEngine, imageNames } from "../lib/container_images.ts";
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { isVerbose, log } from "../lib/log.ts";
import { runSteps, step } from "../lib/steps.ts";

export const command: Command = {
  name: "bake",
  summary:
    "Bake the node image on AWS (--target ami) or build the container images (--target images).",
  examples: [
    "deno task bake --target ami --region eu-west-1",
    "deno task bake --target images",
    "deno task bake --target images --registry registry.example.com/demo",
  ],
};

export const flags = {
  target: flag.choice("What to build", ["ami", "images"] as const, { default: "ami" }),
  region: regionFlag,
  "base-image": flag.string("ami: the image to start from (default: Ubuntu 24.04 of the region)", {
    placeholder: "AMI",
    validate: (v) => /^ami-[0-9a-f]{8,17}$/.test(v) ? undefined : "an AMI id",
    expected: "an AMI id like ami-0123456789abcdef0",
  }),
  "instance-type": flag.string("ami: the builder's instance type", {
    default: "t3.medium",
    placeholder: "TYPE",
    validate: (v) => /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v) ? undefined : "an instance type",
    expected: "an EC2 instance type like t3.medium",
  }),
  registry: flag.string("images: push to this registry (default: build locally only)", {
    placeholder: "HOST[/PATH]",
    validate: (v) => /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._\/-]+)?$/.test(v) ? undefined : "a registry",
    expected: "a registry like registry.example.com/demo",
  }),
  timeout: flag.duration("ami: how long the recipe and the image may take", { default: "45m" }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  if (o.target === "images") {
    const engine = await findEngine();
    const names = await imageNames();
    await runSteps(
      names.map((name) =>
        step(
          `Build ${name}`,
          async (ctx) => await buildImage(engine, name, o.registry, ctx.progress),
        )
      ),
    );
    log.info(`Built ${names.length} image${names.length === 1 ? "" : "s"} with ${engine.cli}.`);
    return;
  }
  const region = await resolveRegion(o.region);
  const aws = awsClients({ region });
  await checkAwsAccess(aws);
  const options = {
    clients: aws,
    baseImage: o.baseImage,
    instanceType: o.instanceType,
    timeoutMs: o.timeout,
  };
  const state: BakeState = {};
  const started = performance.now();
  try {
    await runSteps(bakeAmiSteps(options, state));
  } finally {
    try {
      if (!state.existing) {
        await runSteps([terminateBuilderStep(options, state)], { summary: false });
      }
    } finally {
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      log.info(`${aws.calls.summary()} in ${secs}s`);
      if (isVerbose()) { for (const line of aws.calls.details()) log.info(`  ${line}`); }
    }
  }
  log.info(`Node image ${state.imageId} is ready in ${region}; bootstrap:aws uses it by default.`);
}

if (import.meta.main) runMain(main);
