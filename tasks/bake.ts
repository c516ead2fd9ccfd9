/**
 * bake — build what the clusters run: `--target ami` bakes the node machine image on AWS from
 * images/node/ (a builder instance runs the recipe and powers off; the image is created, waited for
 * and tagged; the builder is terminated, also on failure); `--target images` builds the container
 * images of the catalog (lib/images/catalog.ts) offline, with no Docker daemon and no registry, into
 * OCI archives that containerd imports: Debian images on a debootstrap'ed base, Go binaries from the
 * binary cache, the static pause program. Archives are keyed by their inputs: a second run says
 * "unchanged". Images with no recipe (pulled from their registry) are named and skipped. Building
 * needs root (debootstrap, chroot, overlay mounts).
 *
 * Arguments: --target ami|images
 *            ami:    --region REGION, --base-image AMI, --instance-type TYPE, --timeout DURATION
 *            images: --images offline|pull (offline: every image with a recipe; pull: only ours),
 *                    --only NAME[,NAME…], --out DIR (default <cache>/images/archives)
 * Example:   deno task bake --target ami --region eu-west-1
 *            sudo deno task bake --target images --only tools,pause
 */
import { resolve } from "node:path";
import type { BakeState } from "../lib/aws/bake_ami.ts";
import { checkAwsAccess, regionFlag, resolveRegion } from "../lib/aws/flags.ts";
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { isVerbose, log } from "../lib/log.ts";
import { runSteps } from "../lib/steps.ts";
import { deadline } from "../lib/wait.ts";

export const command: Command = {
  name: "bake",
  summary:
    "Bake the node image on AWS (--target ami) or build the container images (--target images).",
  examples: [
    "deno task bake --target ami --region eu-west-1",
    "sudo deno task bake --target images",
    "sudo deno task bake --target images --images pull --only wrk,tools --out /tmp/images",
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
  images: flag.choice(
    "images: offline builds every image with a recipe, pull only ours (the rest is pulled)",
    ["offline", "pull"] as const,
    { default: "offline" },
  ),
  only: flag.list("images: build only these images (comma-separated names)", {
    placeholder: "NAME[,NAME…]",
  }),
  out: flag.string("images: where the archives go (default: <cache>/images/archives)", {
    placeholder: "DIR",
  }),
  timeout: flag.duration("ami: how long the recipe and the image may take", { default: "45m" }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  if (o.target === "images") {
    // The image builders load only now: --help and usage errors answer without them.
    const { selectImages } = await import("../lib/container_images.ts");
    const { bakeImagesSteps } = await import("../lib/images/bake_steps.ts");
    const only = o.only.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    const { build, pulled } = selectImages(o.images, only);
    for (const image of pulled) {
      log.info(`${image.name}: cannot be built here: pulled from ${image.ref}`);
    }
    if (build.length === 0) return;
    const results = await bakeImagesSteps(build, o.out ? { outDir: resolve(o.out) } : {});
    const built = results.filter((r) => r.status === "built").length;
    const mb = results.reduce((n, r) => n + r.size, 0) / 1e6;
    log.info(
      `${build.length} image archive${build.length === 1 ? "" : "s"} (${built} built, ${
        build.length - built
      } unchanged, ${mb.toFixed(1)} MB) in ${o.out ?? "the cache"}`,
    );
    return;
  }
  const region = await resolveRegion(o.region);
  const { awsClients } = await import("../lib/aws/clients.ts");
  const { bakeAmiSteps, terminateBuilderStep } = await import("../lib/aws/bake_ami.ts");
  const aws = awsClients({ region });
  await checkAwsAccess(aws);
  const options = {
    clients: aws,
    baseImage: o.baseImage,
    instanceType: o.instanceType,
    deadline: deadline(o.timeout),
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
