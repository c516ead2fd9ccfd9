/**
 * The steps of `bake --target ami`: launch a builder instance from a base image (Ubuntu 24.04 by
 * default, from the public SSM parameter) with the node recipe as user data, wait until the recipe
 * powers the builder off (or reports CNCFDEMO_BAKE_FAILED on the console), create the image, wait
 * until it is available, tag it; the builder is terminated by {@link terminateBuilderStep}, which
 * the task runs also when a step failed. An image already baked from the same recipe is reused, and
 * a builder left by an interrupted run is picked up again.
 */
import {
  type _InstanceType,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { Buffer } from "node:buffer";
import { VERSIONS } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";
import { type Step, step } from "../steps.ts";
import { type Deadline, pollUntil } from "../wait.ts";
import { awsErrorName, awsFailure, awsStep } from "./aws_error.ts";
import { IMAGE_TAGS } from "./actions/check_access.ts";
import type { AwsClients } from "./clients.ts";
import { type NodeRecipe, nodeRecipe } from "./node_recipe.ts";

export const UBUNTU_PARAMETER =
  "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const BUILDER_TAG = "cncfdemo:bake";
const RECIPE_TAG = "cncfdemo:recipe";

export interface BakeAmiOptions {
  clients: AwsClients;
  baseImage?: string | undefined;
  instanceType: string;
  /** The task's deadline, shared by its waits. */
  deadline: Deadline;
}

export interface BakeState {
  recipe?: NodeRecipe;
  baseImage?: string;
  /** An image from the same recipe exists: nothing to do. */
  existing?: string;
  builder?: string;
  imageId?: string;
}

const ACTIVE = ["pending", "running", "stopping", "stopped"];

async function builders(aws: AwsClients, hash: string): Promise<Instance[]> {
  const out = await aws.ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: `tag:${BUILDER_TAG}`, Values: [hash] },
        { Name: "instance-state-name", Values: ACTIVE },
      ],
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/** The steps; `state` is shared with {@link terminateBuilderStep}. */
export function bakeAmiSteps(o: BakeAmiOptions, state: BakeState): Step[] {
  const aws = o.clients;
  const mk = (name: string, doing: string, run: Step["run"]) =>
    awsStep(name, doing, aws.region, run);
  const skip = () => state.existing !== undefined;

  return [
    mk("Recipe and base image", "find the base image", async () => {
      state.recipe = await nodeRecipe();
      const found = await aws.ec2.send(
        new DescribeImagesCommand({
          Owners: ["self"],
          Filters: [{ Name: `tag:${RECIPE_TAG}`, Values: [state.recipe.hash] }],
        }),
      );
      const done = (found.Images ?? []).find((i) => i.State === "available");
      if (done) {
        state.existing = done.ImageId!;
        state.imageId = done.ImageId!;
        return `recipe ${state.recipe.hash} already baked: ${done.ImageId}`;
      }
      let base = o.baseImage;
      if (!base) {
        const p = await aws.ssm.send(new GetParameterCommand({ Name: UBUNTU_PARAMETER })).catch(
          (err) => {
            if (awsErrorName(err) === "ParameterNotFound") {
              throw new CncfdemoError(
                `Cannot find Ubuntu 24.04 in ${aws.region} (${UBUNTU_PARAMETER}): pass --base-image`,
              );
            }
            throw err;
          },
        );
        base = p.Parameter!.Value!;
      }
      const img = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [base] })).catch(
        (err) => {
          if (/InvalidAMIID/.test(awsErrorName(err) ?? "")) return { Images: [] };
          throw err;
        },
      );
      if (!img.Images?.length) {
        throw new CncfdemoError(
          `Base image ${base} does not exist in ${aws.region}: pass another --base-image`,
        );
      }
      state.baseImage = base;
      return `recipe ${state.recipe.hash} (${state.recipe.files.length} files, ${state.recipe.userData.length} bytes gzipped), base ${base}`;
    }),
    mk("Launch the builder", "launch the builder instance", async () => {
      if (skip()) return "skipped (image exists)";
      const running = await builders(aws, state.recipe!.hash);
      if (running[0]) {
        state.builder = running[0].InstanceId!;
        return `${state.builder} exists (${running[0].State?.Name})`;
      }
      const out = await aws.ec2.send(
        new RunInstancesCommand({
          ImageId: state.baseImage!,
          InstanceType: o.instanceType as _InstanceType,
          MinCount: 1,
          MaxCount: 1,
          UserData: Buffer.from(state.recipe!.userData).toString("base64"),
          InstanceInitiatedShutdownBehavior: "stop",
          MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
          TagSpecifications: [{
            ResourceType: "instance",
            Tags: [
              { Key: "Name", Value: "cncfdemo-bake" },
              { Key: BUILDER_TAG, Value: state.recipe!.hash },
            ],
          }],
        }),
      );
      state.builder = out.Instances![0]!.InstanceId!;
      return `${state.builder} from ${state.baseImage}`;
    }),
    mk("Wait for the recipe", "wait for the builder", async (ctx) => {
      if (skip()) return "skipped (image exists)";
      let lastState = "";
      let polls = 0;
      await pollUntil(async () => {
        const out = await aws.ec2.send(
          new DescribeInstancesCommand({ InstanceIds: [state.builder!] }),
        );
        const i = out.Reservations?.[0]?.Instances?.[0];
        lastState = i?.State?.Name ?? "gone";
        if (lastState === "stopped") return true;
        if (lastState === "terminated" || lastState === "shutting-down") {
          throw new CncfdemoError(`The builder ${state.builder} was terminated before it finished`);
        }
        if (++polls % 5 === 0) {
          const con = await aws.ec2.send(
            new GetConsoleOutputCommand({ InstanceId: state.builder! }),
          );
          const text = con.Output ? Buffer.from(con.Output, "base64").toString("utf8") : "";
          const failed = /CNCFDEMO_BAKE_FAILED.*/.exec(text);
          if (failed) {
            const tail = text.split("\n").filter((l) => l.trim()).slice(-3).join(" | ");
            throw new CncfdemoError(`The recipe failed on ${state.builder}: ${tail}`);
          }
          const last = text.split("\n").filter((l) => l.includes("cncfdemo-bake:")).at(-1);
          if (last) ctx.progress(last.trim());
        }
        ctx.progress(`builder ${lastState}`);
        return false;
      }, {
        deadline: o.deadline,
        intervalMs: 2_000,
        maxIntervalMs: 15_000,
        describe: () =>
          `The builder ${state.builder} did not finish the recipe in time (still ${lastState}): read its console output (aws ec2 get-console-output --instance-id ${state.builder})`,
      });
      return "the recipe powered the builder off";
    }),
    mk("Create the image", "create the image", async () => {
      if (skip()) return "skipped (image exists)";
      const name = `cncfdemo-node-${VERSIONS.kubernetes}-${state.recipe!.hash}`;
      const found = await aws.ec2.send(
        new DescribeImagesCommand({
          Owners: ["self"],
          Filters: [{ Name: "name", Values: [name] }],
        }),
      );
      if (found.Images?.[0]) {
        state.imageId = found.Images[0].ImageId!;
        return `${state.imageId} exists`;
      }
      const out = await aws.ec2.send(
        new CreateImageCommand({
          InstanceId: state.builder!,
          Name: name,
          Description: `cncfdemo node: Kubernetes ${VERSIONS.kubernetes}, containerd, CNI plugins`,
        }),
      );
      state.imageId = out.ImageId!;
      return state.imageId;
    }),
    mk("Wait until the image is available", "wait for the image", async (ctx) => {
      if (skip()) return "skipped (image exists)";
      let last = "";
      await pollUntil(async () => {
        const out = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [state.imageId!] }));
        last = out.Images?.[0]?.State ?? "missing";
        if (last === "failed") {
          throw new CncfdemoError(
            `Image ${state.imageId} failed: ${out.Images?.[0]?.StateReason?.Message ?? ""}`,
          );
        }
        ctx.progress(last);
        return last === "available";
      }, {
        deadline: o.deadline,
        intervalMs: 2_000,
        maxIntervalMs: 15_000,
        describe: () => `Image ${state.imageId} is still ${last}`,
      });
      return "available";
    }),
    mk("Tag the image", "tag the image", async () => {
      if (skip()) return "skipped (image exists)";
      const out = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [state.imageId!] }));
      const snapshots = (out.Images?.[0]?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId)
        .filter((x): x is string => !!x);
      await aws.ec2.send(
        new CreateTagsCommand({
          Resources: [state.imageId!, ...snapshots],
          Tags: [
            ...Object.entries(IMAGE_TAGS).map(([Key, Value]) => ({ Key, Value })),
            { Key: RECIPE_TAG, Value: state.recipe!.hash },
            { Key: "Name", Value: `cncfdemo-node-${VERSIONS.kubernetes}` },
          ],
        }),
      );
      return `${state.imageId} (${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"})`;
    }),
  ];
}

/** Terminates the builder (run after the bake steps, whether they succeeded or not). */
export function terminateBuilderStep(o: BakeAmiOptions, state: BakeState): Step {
  const aws = o.clients;
  return step("Terminate the builder", async (ctx) => {
    try {
      const ids = new Set<string>(state.builder ? [state.builder] : []);
      if (state.recipe) {
        for (const i of await builders(aws, state.recipe.hash)) ids.add(i.InstanceId!);
      }
      if (ids.size === 0) return "no builder";
      await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [...ids] }));
      await pollUntil(async () => {
        const out = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }));
        const left = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) =>
          i.State?.Name !== "terminated"
        );
        ctx.progress(`${left.length} still terminating`);
        return left.length === 0;
      }, {
        // Clean-up after a failure: at least a minute, also once the task's deadline has passed.
        timeoutMs: Math.max(o.deadline.left(), 60_000),
        intervalMs: 1_000,
        maxIntervalMs: 10_000,
        describe: () => `The builder ${[...ids].join(", ")} did not terminate in time`,
      });
      return `${[...ids].join(", ")} terminated`;
    } catch (err) {
      throw awsFailure(err, "terminate the builder", aws.region);
    }
  });
}
