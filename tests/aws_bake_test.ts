/**
 * bake --target ami against a real moto_server: the
 * builder is launched with the recipe, the image is created once the builder stopped, tagged, the
 * builder terminated — also when the bake fails — and a second bake reuses the image.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gunzipSync } from "fflate";
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { pollUntil } from "../lib/wait.ts";
import { census } from "./support/aws_census.ts";
import { sandbox } from "./support/env.ts";
import { moto } from "./support/moto.ts";

type Clients = ReturnType<Awaited<ReturnType<typeof moto>>["clients"]>;

async function builders(aws: Clients, states = ["pending", "running", "stopping", "stopped"]) {
  const out = await aws.ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag-key", Values: ["cncfdemo:bake"] },
        { Name: "instance-state-name", Values: states },
      ],
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

Deno.test("bake --target ami: builder with the recipe, image created and tagged, builder terminated; a second bake reuses it", async () => {
  const m = await moto();
  await m.reset();
  const aws = m.clients();
  const sb = await sandbox({ env: m.env });
  try {
    const base = await m.image();
    const baking = sb.task("bake.ts", ["--target", "ami", "--base-image", base, "--verbose"]);
    // The recipe powers the builder off when done; moto runs no recipe, so stop it like the recipe.
    const builder = await pollUntil(async () => (await builders(aws, ["running"]))[0], {
      timeoutMs: 60_000,
      describe: () => "bake launched no builder",
    });
    const attr = await aws.ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: builder.InstanceId!,
        Attribute: "userData",
      }),
    );
    const script = new TextDecoder().decode(
      gunzipSync(Buffer.from(attr.UserData!.Value!, "base64")),
    );
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(script, /cncfdemo-master\.service/);
    assert.match(
      script,
      /KUBERNETES_VERSION=v1\.36\.3 bash \/var\/lib\/cncfdemo-bake\/provision\.sh/,
    );
    await aws.ec2.send(new StopInstancesCommand({ InstanceIds: [builder.InstanceId!] }));
    const r = await baking;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /EC2\.RunInstances 1/);

    const images = await aws.ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
    assert.equal(images.Images?.length, 1);
    const tags = Object.fromEntries((images.Images![0]!.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.equal(tags["cncfdemo:image"], "node");
    assert.equal(tags["cncfdemo:kubernetes"], "v1.36.3");
    assert.match(tags["cncfdemo:recipe"] ?? "", /^[0-9a-f]{16}$/);
    assert.deepEqual(await builders(aws), [], "the builder is terminated");

    const again = await sb.task("bake.ts", ["--target", "ami", "--base-image", base, "--verbose"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already baked/);
    assert.doesNotMatch(again.stderr, /RunInstances|CreateImage/);
    assert.equal(
      (await aws.ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images?.length,
      1,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("bake --target ami: a builder that never finishes times out, and is terminated", async () => {
  const m = await moto();
  await m.reset();
  const aws = m.clients();
  const sb = await sandbox({ env: m.env });
  try {
    const r = await sb.task("bake.ts", ["--base-image", await m.image(), "--timeout", "2s"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr.trim().split("\n").at(-1)!,
      /^error: The builder i-[0-9a-f]+ did not finish the recipe in time \(still running\)/,
    );
    assert.match(r.stderr, /✓ Terminate the builder .* terminated/);
    assert.deepEqual(await builders(aws), []);
    assert.equal((await census(aws)).instance, 0);
    assert.equal(
      (await aws.ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images?.length,
      0,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("bake --target ami: an unknown base image is refused before anything is launched", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const r = await sb.task("bake.ts", ["--base-image", "ami-0123456789abcdef0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: Base image ami-0123456789abcdef0 does not exist in us-east-1/);
    assert.equal((await census(m.clients())).instance, 0);
  } finally {
    await sb.cleanup();
  }
});
